import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupProcesses, childEnv, spawnServer, tempDir, type ServerProcess } from './helpers/process.js';
import { awsCliEnv, runCommand } from './helpers/functions.js';

/*
 * The same scenario through the `aws` CLI (v1) and through boto3, against a real server process.
 * botocore signs a different set of headers than the JS SDK does, and the CLI has its own
 * argument handling (fileb://, --filters, shorthand), so this is where those differences show.
 */

after(cleanupProcesses);

const has = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: childEnv() });
  return r.status === 0;
};
const HAVE_AWS = has('aws', ['--version']);
const HAVE_BOTO3 = has('python3', ['-c', 'import boto3']);

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const MISSING_MESSAGE = "Secrets Manager can't find the specified secret.";
const SIGNATURE_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';
const UNRECOGNIZED_MESSAGE = 'The security token included in the request is invalid.';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for aws / python: only the given credentials file, no config, no instance metadata. */
function awsEnv(server: ServerProcess, credentialsFile: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return awsCliEnv(credentialsFile, server.dataDir, extra);
}

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> => runCommand(cmd, args, env, { timeoutMs: 30_000, maxBuffer: 16 * 1024 * 1024 });

/** A credentials file like the server's, with `edit` applied to the key pair. */
function editedCredentials(server: ServerProcess, name: string, edit: (k: { id: string; secret: string }) => { id: string; secret: string }): string {
  const c = server.readCredentials();
  const k = edit({ id: c.accessKeyId, secret: c.secretAccessKey });
  const file = join(server.dataDir, name);
  writeFileSync(file, `[default]\naws_access_key_id = ${k.id}\naws_secret_access_key = ${k.secret}\n`, { mode: 0o600 });
  return file;
}

const wrongSecret = (k: { id: string; secret: string }) => ({
  id: k.id,
  secret: (k.secret[0] === 'A' ? 'B' : 'A') + k.secret.slice(1),
});
const unknownKey = (k: { id: string; secret: string }) => ({ id: 'LKIAUNKNOWNKEY000000', secret: k.secret });

describe('aws CLI', { concurrency: true }, () => {
  test('the aws CLI is installed (.ci/run installs it)', () => assert.ok(HAVE_AWS, 'aws --version failed'));
  let server: ServerProcess;
  before(async () => {
    server = await spawnServer();
  });

  /** `aws --endpoint-url <url> secretsmanager <args> --output json` as the root key (or another credentials file). */
  function aws(args: string[], credentialsFile = server.credentialsFile): Promise<Run> {
    return run('aws', ['--endpoint-url', server.url, '--output', 'json', 'secretsmanager', ...args], awsEnv(server, credentialsFile));
  }
  async function awsJson(args: string[]): Promise<any> {
    const r = await aws(args);
    assert.equal(r.code, 0, `aws secretsmanager ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
  }

  test('the scenario: string and binary secrets, versions, stages, listing, tags, passwords, deletion', async () => {
    const prefix = `cli-${randomBytes(3).toString('hex')}/`;
    const name = `${prefix}app/db`;
    const binName = `${prefix}app/blob`;

    const created = await awsJson(['create-secret', '--name', name, '--secret-string', '{"username":"app","password":"one"}', '--description', 'from the CLI']);
    assert.equal(created.Name, name);
    assert.match(created.ARN, new RegExp(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:${prefix}app/db-[A-Za-z0-9]{6}$`));
    assert.match(created.VersionId, /^[0-9a-f-]{36}$/);
    const v1 = created.VersionId as string;

    const got = await awsJson(['get-secret-value', '--secret-id', name]);
    assert.equal(got.SecretString, '{"username":"app","password":"one"}');
    assert.equal(got.VersionId, v1);
    assert.deepEqual(got.VersionStages, ['AWSCURRENT']);
    assert.equal(got.ARN, created.ARN);
    assert.equal(typeof got.CreatedDate, 'number');

    const put = await awsJson(['put-secret-value', '--secret-id', name, '--secret-string', '{"username":"app","password":"two"}']);
    assert.deepEqual(put.VersionStages, ['AWSCURRENT']);
    const v2 = put.VersionId as string;
    assert.notEqual(v2, v1);

    const prev = await awsJson(['get-secret-value', '--secret-id', name, '--version-stage', 'AWSPREVIOUS']);
    assert.equal(prev.SecretString, '{"username":"app","password":"one"}');
    assert.equal(prev.VersionId, v1);
    assert.deepEqual(prev.VersionStages, ['AWSPREVIOUS']);

    // Binary: fileb:// with every byte value, read back byte-exact (the CLI prints base64).
    const binFile = join(server.dataDir, 'all-bytes.bin');
    writeFileSync(binFile, ALL_BYTES);
    const bin = await awsJson(['create-secret', '--name', binName, '--secret-binary', `fileb://${binFile}`]);
    assert.equal(bin.Name, binName);
    const binGot = await awsJson(['get-secret-value', '--secret-id', binName]);
    assert.equal(binGot.SecretString, undefined);
    assert.deepEqual(Buffer.from(binGot.SecretBinary, 'base64'), ALL_BYTES);

    const described = await awsJson(['describe-secret', '--secret-id', name]);
    assert.equal(described.Name, name);
    assert.equal(described.ARN, created.ARN);
    assert.equal(described.Description, 'from the CLI');
    assert.deepEqual(described.VersionIdsToStages, { [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });

    const listed = await awsJson(['list-secrets', '--filters', `Key=name,Values=${prefix}`]);
    assert.deepEqual(listed.SecretList.map((s: { Name: string }) => s.Name).sort(), [binName, name].sort());
    const none = await awsJson(['list-secrets', '--filters', `Key=name,Values=${prefix}nothing-here`]);
    assert.deepEqual(none.SecretList, []);

    const ids = await awsJson(['list-secret-version-ids', '--secret-id', name]);
    assert.equal(ids.Name, name);
    assert.deepEqual(
      Object.fromEntries(ids.Versions.map((v: { VersionId: string; VersionStages: string[] }) => [v.VersionId, v.VersionStages])),
      { [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] },
    );

    await awsJson(['tag-resource', '--secret-id', name, '--tags', 'Key=env,Value=test', 'Key=team,Value=core']);
    await awsJson(['untag-resource', '--secret-id', name, '--tag-keys', 'team']);
    const tagged = await awsJson(['describe-secret', '--secret-id', name]);
    assert.deepEqual(tagged.Tags, [{ Key: 'env', Value: 'test' }]);

    // Move AWSCURRENT back to the first version: AWSPREVIOUS follows to the version it left.
    const moved = await awsJson(['update-secret-version-stage', '--secret-id', name, '--version-stage', 'AWSCURRENT', '--move-to-version-id', v1, '--remove-from-version-id', v2]);
    assert.equal(moved.Name, name);
    const now = await awsJson(['get-secret-value', '--secret-id', name]);
    assert.equal(now.VersionId, v1);
    assert.equal(now.SecretString, '{"username":"app","password":"one"}');
    const afterMove = await awsJson(['list-secret-version-ids', '--secret-id', name]);
    assert.deepEqual(
      Object.fromEntries(afterMove.Versions.map((v: { VersionId: string; VersionStages: string[] }) => [v.VersionId, v.VersionStages])),
      { [v1]: ['AWSCURRENT'], [v2]: ['AWSPREVIOUS'] },
    );

    const pw = await awsJson(['get-random-password', '--password-length', '20', '--exclude-punctuation']);
    assert.equal(pw.RandomPassword.length, 20);
    assert.match(pw.RandomPassword, /^[A-Za-z0-9]{20}$/);
    assert.match(pw.RandomPassword, /[a-z]/);
    assert.match(pw.RandomPassword, /[A-Z]/);
    assert.match(pw.RandomPassword, /[0-9]/);

    const deleted = await awsJson(['delete-secret', '--secret-id', name, '--force-delete-without-recovery']);
    assert.equal(deleted.Name, name);
    assert.equal(deleted.ARN, created.ARN);
    assert.equal(typeof deleted.DeletionDate, 'number');
    const gone = await aws(['get-secret-value', '--secret-id', name]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /ResourceNotFoundException/);
  });

  test('errors: missing secret, wrong secret key, unknown access key', async () => {
    const [missing, badSig, unknown] = await Promise.all([
      aws(['get-secret-value', '--secret-id', 'cli/does-not-exist']),
      aws(['list-secrets'], editedCredentials(server, 'cli-wrong-secret', wrongSecret)),
      aws(['list-secrets'], editedCredentials(server, 'cli-unknown-key', unknownKey)),
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /An error occurred \(ResourceNotFoundException\) when calling the GetSecretValue operation/);
    assert.ok(missing.stderr.includes(MISSING_MESSAGE), missing.stderr);

    assert.notEqual(badSig.code, 0);
    assert.match(badSig.stderr, /\(InvalidSignatureException\) when calling the ListSecrets operation/);
    assert.ok(badSig.stderr.includes(SIGNATURE_MESSAGE), badSig.stderr);

    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /\(UnrecognizedClientException\) when calling the ListSecrets operation/);
    assert.ok(unknown.stderr.includes(UNRECOGNIZED_MESSAGE), unknown.stderr);
  });
});

/*
 * boto3: one Python process per test, printing one JSON document of what it saw; the assertions
 * are here. Binary values travel as hex.
 */
const PY_COMMON = String.raw`
import json, os, sys, binascii
import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get('LOCKSTEP_TEST_ENDPOINT')

def client(creds_file=None, endpoint=True):
    if creds_file:
        os.environ['AWS_SHARED_CREDENTIALS_FILE'] = creds_file
    session = boto3.session.Session()
    kwargs = {'endpoint_url': ENDPOINT} if endpoint else {}
    return session.client('secretsmanager', **kwargs)

def err(fn):
    try:
        fn()
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'message': e.response['Error'].get('Message'),
                'status': e.response['ResponseMetadata']['HTTPStatusCode']}
    return None

def clean(obj):
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items() if k != 'ResponseMetadata'}
    if isinstance(obj, list):
        return [clean(v) for v in obj]
    if isinstance(obj, (bytes, bytearray)):
        return {'hex': binascii.hexlify(obj).decode()}
    if hasattr(obj, 'isoformat'):
        return obj.isoformat()
    return obj

out = {}
`;

const PY_SCENARIO = PY_COMMON + String.raw`
prefix = sys.argv[1]
name, bin_name = prefix + 'app/db', prefix + 'app/blob'
sm = client()
out['created'] = clean(sm.create_secret(Name=name, SecretString='{"username":"app","password":"one"}', Description='from boto3'))
out['got'] = clean(sm.get_secret_value(SecretId=name))
out['put'] = clean(sm.put_secret_value(SecretId=name, SecretString='{"username":"app","password":"two"}'))
out['previous'] = clean(sm.get_secret_value(SecretId=name, VersionStage='AWSPREVIOUS'))
out['bin_created'] = clean(sm.create_secret(Name=bin_name, SecretBinary=bytes(range(256))))
out['bin_got'] = clean(sm.get_secret_value(SecretId=bin_name))
out['described'] = clean(sm.describe_secret(SecretId=name))
out['listed'] = clean(sm.list_secrets(Filters=[{'Key': 'name', 'Values': [prefix]}]))
out['paginated'] = [s['Name'] for page in sm.get_paginator('list_secrets').paginate(Filters=[{'Key': 'name', 'Values': [prefix]}], PaginationConfig={'PageSize': 1}) for s in page['SecretList']]
out['ids'] = clean(sm.list_secret_version_ids(SecretId=name))
sm.tag_resource(SecretId=name, Tags=[{'Key': 'env', 'Value': 'test'}, {'Key': 'team', 'Value': 'core'}])
sm.untag_resource(SecretId=name, TagKeys=['team'])
out['tagged'] = clean(sm.describe_secret(SecretId=name))
v1, v2 = out['created']['VersionId'], out['put']['VersionId']
out['moved'] = clean(sm.update_secret_version_stage(SecretId=name, VersionStage='AWSCURRENT', MoveToVersionId=v1, RemoveFromVersionId=v2))
out['now'] = clean(sm.get_secret_value(SecretId=name))
out['ids_after'] = clean(sm.list_secret_version_ids(SecretId=name))
out['password'] = clean(sm.get_random_password(PasswordLength=20, ExcludePunctuation=True))
out['deleted'] = clean(sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True))
out['gone'] = err(lambda: sm.get_secret_value(SecretId=name))
print(json.dumps(out))
`;

const PY_ERRORS = PY_COMMON + String.raw`
root, wrong, unknown = sys.argv[1:4]
out['missing'] = err(lambda: client(root).get_secret_value(SecretId='boto3/does-not-exist'))
out['wrong_secret'] = err(lambda: client(wrong).list_secrets())
out['unknown_key'] = err(lambda: client(unknown).list_secrets())
print(json.dumps(out))
`;

const PY_ENV_ENDPOINT = PY_COMMON + String.raw`
sm = client(endpoint=False)
out['endpoint'] = sm.meta.endpoint_url
out['created'] = clean(sm.create_secret(Name='boto3-env/one', SecretString='via AWS_ENDPOINT_URL'))
out['got'] = clean(sm.get_secret_value(SecretId='boto3-env/one'))
out['listed'] = [s['Name'] for s in sm.list_secrets()['SecretList']]
print(json.dumps(out))
`;

describe('boto3', { concurrency: true }, () => {
  test('boto3 is installed (.ci/run installs it)', () => assert.ok(HAVE_BOTO3, 'import boto3 failed'));
  let server: ServerProcess;
  before(async () => {
    server = await spawnServer();
  });

  async function python(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<any> {
    const file = join(tempDir('lockstep-py-'), 'script.py');
    writeFileSync(file, script);
    const r = await run('python3', [file, ...args], env);
    assert.equal(r.code, 0, `python failed:\n${r.stderr}`);
    return JSON.parse(r.stdout);
  }
  const stagesById = (ids: { Versions: { VersionId: string; VersionStages: string[] }[] }) =>
    Object.fromEntries(ids.Versions.map((v) => [v.VersionId, v.VersionStages]));

  test('the scenario: string and binary secrets, versions, stages, listing, tags, passwords, deletion', async () => {
    const prefix = `boto3-${randomBytes(3).toString('hex')}/`;
    const name = `${prefix}app/db`;
    const binName = `${prefix}app/blob`;
    const o = await python(PY_SCENARIO, [prefix], awsEnv(server, server.credentialsFile, { LOCKSTEP_TEST_ENDPOINT: server.url }));
    const v1 = o.created.VersionId;
    const v2 = o.put.VersionId;
    assert.equal(o.created.Name, name);
    assert.match(o.created.ARN, new RegExp(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:${prefix}app/db-[A-Za-z0-9]{6}$`));
    assert.equal(o.got.SecretString, '{"username":"app","password":"one"}');
    assert.equal(o.got.VersionId, v1);
    assert.deepEqual(o.got.VersionStages, ['AWSCURRENT']);
    assert.deepEqual(o.put.VersionStages, ['AWSCURRENT']);
    assert.notEqual(v2, v1);
    assert.equal(o.previous.SecretString, '{"username":"app","password":"one"}');
    assert.equal(o.previous.VersionId, v1);

    assert.equal(o.bin_created.Name, binName);
    assert.equal(o.bin_got.SecretString, undefined);
    assert.deepEqual(Buffer.from(o.bin_got.SecretBinary.hex, 'hex'), ALL_BYTES);

    assert.equal(o.described.Description, 'from boto3');
    assert.deepEqual(o.described.VersionIdsToStages, { [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    assert.deepEqual(o.listed.SecretList.map((s: { Name: string }) => s.Name).sort(), [binName, name].sort());
    assert.deepEqual([...o.paginated].sort(), [binName, name].sort());
    assert.deepEqual(stagesById(o.ids), { [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    assert.deepEqual(o.tagged.Tags, [{ Key: 'env', Value: 'test' }]);

    assert.equal(o.moved.Name, name);
    assert.equal(o.now.VersionId, v1);
    assert.deepEqual(stagesById(o.ids_after), { [v1]: ['AWSCURRENT'], [v2]: ['AWSPREVIOUS'] });

    assert.match(o.password.RandomPassword, /^[A-Za-z0-9]{20}$/);
    assert.equal(o.deleted.Name, name);
    assert.equal(o.gone.code, 'ResourceNotFoundException');
    assert.equal(o.gone.message, MISSING_MESSAGE);
  });

  test('errors: missing secret, wrong secret key, unknown access key', async () => {
    const o = await python(
      PY_ERRORS,
      [server.credentialsFile, editedCredentials(server, 'boto3-wrong-secret', wrongSecret), editedCredentials(server, 'boto3-unknown-key', unknownKey)],
      awsEnv(server, server.credentialsFile, { LOCKSTEP_TEST_ENDPOINT: server.url }),
    );
    assert.deepEqual(o.missing, { code: 'ResourceNotFoundException', message: MISSING_MESSAGE, status: 400 });
    assert.equal(o.wrong_secret.code, 'InvalidSignatureException');
    assert.equal(o.wrong_secret.status, 400);
    assert.ok(o.wrong_secret.message.startsWith(SIGNATURE_MESSAGE), o.wrong_secret.message);
    assert.deepEqual(o.unknown_key, { code: 'UnrecognizedClientException', message: UNRECOGNIZED_MESSAGE, status: 400 });
  });

  test('AWS_ENDPOINT_URL instead of endpoint_url', async () => {
    const o = await python(PY_ENV_ENDPOINT, [], awsEnv(server, server.credentialsFile, { AWS_ENDPOINT_URL: server.url }));
    assert.equal(o.endpoint, server.url);
    assert.equal(o.created.Name, 'boto3-env/one');
    assert.equal(o.got.SecretString, 'via AWS_ENDPOINT_URL');
    assert.ok(o.listed.includes('boto3-env/one'));
  });
});
