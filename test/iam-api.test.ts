import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startServer, type TestServer } from './helpers/server.js';
import { sdkSigner } from './helpers/raw.js';
import { awsCliEnv, runCommand, type CommandRun } from './helpers/functions.js';
import { MAIN } from './helpers/process.js';

/*
 * The IAM and STS subset through the aws CLI, boto3 and raw signed requests: two users and a role,
 * access keys, inline policies, trust policies, AssumeRole and GetCallerIdentity, and errors in
 * IAM's XML shape.
 */

const ACCOUNT = '123456789012';
const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

let server: TestServer;
let rootFile: string;

before(async () => {
  server = await startServer();
  rootFile = join(server.dataDir, 'root-credentials');
});
after(() => server.stop());

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A key pair as the aws CLI prints it (AccessKeyId, SecretAccessKey, SessionToken). */
function keysOf(k: Record<string, string>): Keys {
  return { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey, ...(k.SessionToken ? { sessionToken: k.SessionToken } : {}) };
}

/** Writes a credentials file for a key pair (and session token); returns its path. */
function credentialsFile(name: string, k: Keys): string {
  const file = join(server.dataDir, `${name}.credentials`);
  const token = k.sessionToken ? `aws_session_token = ${k.sessionToken}\n` : '';
  writeFileSync(file, `[default]\naws_access_key_id = ${k.accessKeyId}\naws_secret_access_key = ${k.secretAccessKey}\n${token}`, { mode: 0o600 });
  return file;
}

/** `aws --endpoint-url <server> --output json <args>` with a credentials file (root's by default). */
function aws(args: string[], file = rootFile, extra: Record<string, string> = {}): Promise<CommandRun> {
  return runCommand('aws', ['--endpoint-url', server.endpoint, '--output', 'json', ...args], awsCliEnv(file, server.dataDir, extra), { timeoutMs: 30_000 });
}

async function awsJson(args: string[], file = rootFile): Promise<any> {
  const r = await aws(args, file);
  assert.equal(r.code, 0, `aws ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
}

/** Asserts the command failed with this error code and message (as the CLI prints it). */
async function awsFails(args: string[], code: string, message: string | RegExp, file = rootFile): Promise<void> {
  const r = await aws(args, file);
  assert.notEqual(r.code, 0, `aws ${args.join(' ')} succeeded:\n${r.stdout}`);
  const m = /An error occurred \(([^)]+)\) when calling the \w+ operation: (.*)/.exec(r.stderr);
  assert.ok(m, `no AWS error in:\n${r.stderr}`);
  assert.equal(m[1], code, r.stderr);
  if (typeof message === 'string') assert.equal(m[2].trim(), message);
  else assert.match(m[2], message);
}

/** A query-protocol request signed with the SDK's signer; the raw answer. */
async function query(
  service: 'iam' | 'sts',
  params: Record<string, string>,
  creds: Keys = server.credentials,
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(server.endpoint);
  const body = new URLSearchParams({ Version: service === 'iam' ? '2010-05-08' : '2011-06-15', ...params }).toString();
  const signed = await sdkSigner({ credentials: creds, region: 'us-east-1', service }).sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: Number(url.port), method: 'POST', path: '/', headers: { ...signed.headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The text of the first element of that name in an XML answer. */
const xmlText = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

const unescape = (text: string) => text.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Asserts a raw request fails with this code and message (the aws CLI's parsing is covered elsewhere; this is quicker). */
async function queryFails(service: 'iam' | 'sts', params: Record<string, string>, code: string, message: string | RegExp, creds?: Keys): Promise<void> {
  const r = await query(service, params, creds);
  assert.ok(r.status >= 400, `${JSON.stringify(params)} succeeded: ${r.body}`);
  assert.equal(xmlText(r.body, 'Code'), code, r.body);
  const m = unescape(xmlText(r.body, 'Message') ?? '');
  if (typeof message === 'string') assert.equal(m, message);
  else assert.match(m, message);
}

const trust = (...aws: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: aws }, Action: 'sts:AssumeRole' }] });
const allow = (action: string, resource: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });

describe('IAM and STS through the aws CLI', () => {
  let aliceFile = '';
  let bobFile = '';

  test('root is the account: GetCallerIdentity', async () => {
    assert.deepEqual(await awsJson(['sts', 'get-caller-identity']), { UserId: ACCOUNT, Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:root` });
  });

  test('users: create, names unique without regard to case, list by path, get', async () => {
    const created = await awsJson(['iam', 'create-user', '--user-name', 'alice', '--path', '/dev/']);
    assert.equal(created.User.Arn, `arn:aws:iam::${ACCOUNT}:user/dev/alice`);
    assert.match(created.User.UserId, /^AIDA[A-Z0-9]{17}$/);
    assert.equal(created.User.Path, '/dev/');
    assert.match(created.User.CreateDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await awsJson(['iam', 'create-user', '--user-name', 'bob']);
    await Promise.all([
      awsFails(['iam', 'create-user', '--user-name', 'Alice'], 'EntityAlreadyExists', 'User with name Alice already exists.'),
      awsFails(['iam', 'create-user', '--user-name', 'bad name'], 'ValidationError',
        "1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"),
      queryFails('iam', { Action: 'CreateUser', UserName: 'carol', Path: 'nopath' }, 'ValidationError', /at 'path' failed to satisfy constraint/),
      queryFails('iam', { Action: 'GetUser', UserName: 'nobody' }, 'NoSuchEntity', 'The user with name nobody cannot be found.'),
      (async () => assert.deepEqual((await awsJson(['iam', 'list-users'])).Users.map((u: any) => u.UserName), ['alice', 'bob']))(),
      (async () => assert.deepEqual((await awsJson(['iam', 'list-users', '--path-prefix', '/dev/'])).Users.map((u: any) => u.UserName), ['alice']))(),
      (async () => assert.deepEqual((await awsJson(['iam', 'get-user', '--user-name', 'alice'])).User, created.User))(),
    ]);
  });

  test('access keys: a new key works at once; two per user; a deactivated or deleted key stops at once', async () => {
    const k1 = (await awsJson(['iam', 'create-access-key', '--user-name', 'alice'])).AccessKey;
    assert.match(k1.AccessKeyId, /^LKIA[A-Z2-7]{16}$/);
    assert.equal(k1.SecretAccessKey.length, 40);
    assert.equal(k1.Status, 'Active');
    aliceFile = credentialsFile('alice', keysOf(k1));
    const me = await awsJson(['sts', 'get-caller-identity'], aliceFile);
    assert.deepEqual(me, { UserId: (await awsJson(['iam', 'get-user', '--user-name', 'alice'])).User.UserId, Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/dev/alice` });
    // the same key signs Secrets Manager calls too, where alice's (absent) policies decide
    await awsFails(['secretsmanager', 'list-secrets'], 'AccessDeniedException',
      `User: arn:aws:iam::${ACCOUNT}:user/dev/alice is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action`, aliceFile);

    const k2 = (await awsJson(['iam', 'create-access-key', '--user-name', 'alice'])).AccessKey;
    await awsFails(['iam', 'create-access-key', '--user-name', 'alice'], 'LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
    const listed = await awsJson(['iam', 'list-access-keys', '--user-name', 'alice']);
    assert.deepEqual(listed.AccessKeyMetadata.map((k: any) => k.AccessKeyId).sort(), [k1.AccessKeyId, k2.AccessKeyId].sort());
    assert.ok(listed.AccessKeyMetadata.every((k: any) => k.UserName === 'alice' && k.Status === 'Active' && !('SecretAccessKey' in k)));

    const k2File = credentialsFile('alice-k2', keysOf(k2));
    await awsJson(['sts', 'get-caller-identity'], k2File);
    await awsJson(['iam', 'update-access-key', '--user-name', 'alice', '--access-key-id', k2.AccessKeyId, '--status', 'Inactive']);
    await awsFails(['sts', 'get-caller-identity'], 'InvalidClientTokenId', 'The security token included in the request is invalid.', k2File);
    await awsFails(['secretsmanager', 'list-secrets'], 'UnrecognizedClientException', 'The security token included in the request is invalid.', k2File);
    await awsJson(['iam', 'update-access-key', '--user-name', 'alice', '--access-key-id', k2.AccessKeyId, '--status', 'Active']);
    await awsJson(['sts', 'get-caller-identity'], k2File);
    await awsFails(['iam', 'delete-user', '--user-name', 'alice'], 'DeleteConflict', 'Cannot delete entity, must delete access keys first.');
    await awsJson(['iam', 'delete-access-key', '--user-name', 'alice', '--access-key-id', k2.AccessKeyId]);
    await awsFails(['sts', 'get-caller-identity'], 'InvalidClientTokenId', 'The security token included in the request is invalid.', k2File);
    await awsFails(['iam', 'delete-access-key', '--user-name', 'bob', '--access-key-id', k1.AccessKeyId], 'NoSuchEntity', `The Access Key with id ${k1.AccessKeyId} cannot be found.`);

    bobFile = credentialsFile('bob', keysOf((await awsJson(['iam', 'create-access-key', '--user-name', 'bob'])).AccessKey));
  });

  test('inline policies: IAM actions of non-root principals are authorized by them, at once', async () => {
    const denied = `User: arn:aws:iam::${ACCOUNT}:user/dev/alice is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::${ACCOUNT}:user/ because no identity-based policy allows the iam:ListUsers action`;
    await awsFails(['iam', 'list-users'], 'AccessDenied', denied, aliceFile);
    await awsJson(['iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'read-users', '--policy-document', allow('iam:ListUsers', `arn:aws:iam::${ACCOUNT}:user/*`)]);
    assert.equal((await awsJson(['iam', 'list-users'], aliceFile)).Users.length, 2);
    // her own user, through the policy variable
    await awsJson(['iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'self', '--policy-document', allow('iam:*AccessKey*', `arn:aws:iam::${ACCOUNT}:user/dev/\${aws:username}`)]);
    assert.equal((await awsJson(['iam', 'list-access-keys'], aliceFile)).AccessKeyMetadata.length, 1, 'no UserName: her own keys');
    await awsFails(['iam', 'list-access-keys', '--user-name', 'bob'], 'AccessDenied', /iam:ListAccessKeys on resource: arn:aws:iam::123456789012:user\/bob because/, aliceFile);
    await awsFails(['iam', 'create-user', '--user-name', 'mallory'], 'AccessDenied', /iam:CreateUser on resource: arn:aws:iam::123456789012:user\/mallory/, aliceFile);

    const big = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: Array.from({ length: 40 }, (_, i) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:app-${i}-*`) }] });
    await Promise.all([
      (async () => assert.deepEqual(await awsJson(['iam', 'get-user-policy', '--user-name', 'alice', '--policy-name', 'read-users']), {
        UserName: 'alice', PolicyName: 'read-users', PolicyDocument: JSON.parse(allow('iam:ListUsers', `arn:aws:iam::${ACCOUNT}:user/*`)),
      }))(),
      (async () => assert.deepEqual((await awsJson(['iam', 'list-user-policies', '--user-name', 'alice'])).PolicyNames, ['read-users', 'self']))(),
      queryFails('iam', { Action: 'GetUserPolicy', UserName: 'alice', PolicyName: 'nope' }, 'NoSuchEntity', 'The user policy with name nope cannot be found.'),
      awsFails(['iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'bad', '--policy-document', '{"Statement": ['], 'MalformedPolicyDocument', 'Syntax errors in policy.'),
      queryFails('iam', { Action: 'PutUserPolicy', UserName: 'alice', PolicyName: 'bad', PolicyDocument: trust('*') }, 'MalformedPolicyDocument', 'Policy document should not specify a principal.'),
      queryFails('iam', { Action: 'PutUserPolicy', UserName: 'alice', PolicyName: 'big', PolicyDocument: big }, 'LimitExceeded', 'Maximum policy size of 2048 bytes exceeded for user alice'),
    ]);

    await awsJson(['iam', 'delete-user-policy', '--user-name', 'alice', '--policy-name', 'read-users']);
    await awsFails(['iam', 'list-users'], 'AccessDenied', denied, aliceFile);
  });

  test('roles: trust policies name users or the account; AssumeRole as IAM decides it', async () => {
    const app = await awsJson(['iam', 'create-role', '--role-name', 'app', '--assume-role-policy-document', trust(`arn:aws:iam::${ACCOUNT}:user/dev/alice`), '--description', 'the app']);
    assert.equal(app.Role.Arn, `arn:aws:iam::${ACCOUNT}:role/app`);
    assert.match(app.Role.RoleId, /^AROA[A-Z0-9]{17}$/);
    assert.equal(app.Role.MaxSessionDuration, 3600);
    assert.deepEqual(app.Role.AssumeRolePolicyDocument, JSON.parse(trust(`arn:aws:iam::${ACCOUNT}:user/dev/alice`)));
    await awsJson(['iam', 'create-role', '--role-name', 'ops', '--path', '/team/', '--assume-role-policy-document', trust(ACCOUNT), '--max-session-duration', '7200']);
    await Promise.all([
      awsFails(['iam', 'create-role', '--role-name', 'x', '--assume-role-policy-document', trust(`arn:aws:iam::${ACCOUNT}:user/ghost`)], 'MalformedPolicyDocument',
        `Invalid principal in policy: "AWS":"arn:aws:iam::${ACCOUNT}:user/ghost"`),
      queryFails('iam', { Action: 'CreateRole', RoleName: 'x', AssumeRolePolicyDocument: allow('sts:AssumeRole', '*') }, 'MalformedPolicyDocument', 'Has prohibited field Resource'),
      queryFails('iam', { Action: 'CreateRole', RoleName: 'APP', AssumeRolePolicyDocument: trust(ACCOUNT) }, 'EntityAlreadyExists', 'Role with name APP already exists.'),
      (async () => assert.deepEqual((await awsJson(['iam', 'list-roles'])).Roles.map((r: any) => r.Arn), [`arn:aws:iam::${ACCOUNT}:role/app`, `arn:aws:iam::${ACCOUNT}:role/team/ops`]))(),
      (async () => assert.deepEqual((await awsJson(['iam', 'get-role', '--role-name', 'ops'])).Role.MaxSessionDuration, 7200))(),
    ]);

    // alice is named by app's trust policy: enough
    const assumed = await awsJson(['sts', 'assume-role', '--role-arn', app.Role.Arn, '--role-session-name', 'web-1', '--duration-seconds', '900'], aliceFile);
    assert.match(assumed.Credentials.AccessKeyId, /^LSIA[A-Z2-7]{16}$/);
    assert.ok(assumed.Credentials.SessionToken.length > 100);
    const expires = Date.parse(assumed.Credentials.Expiration);
    assert.ok(Math.abs(expires - (Date.now() + 900_000)) < 60_000, assumed.Credentials.Expiration);
    assert.deepEqual(assumed.AssumedRoleUser, { AssumedRoleId: `${app.Role.RoleId}:web-1`, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/web-1` });
    const sessionFile = credentialsFile('session', keysOf(assumed.Credentials));
    assert.deepEqual(await awsJson(['sts', 'get-caller-identity'], sessionFile), { UserId: `${app.Role.RoleId}:web-1`, Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/web-1` });
    await awsFails(['secretsmanager', 'list-secrets'], 'AccessDeniedException',
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/app/web-1 is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action`, sessionFile);
    // without its token the temporary key is refused
    const noToken = credentialsFile('session-no-token', { ...keysOf(assumed.Credentials), sessionToken: undefined });
    const opsArn = `arn:aws:iam::${ACCOUNT}:role/team/ops`;
    await Promise.all([
      awsFails(['sts', 'get-caller-identity'], 'InvalidClientTokenId', 'The security token included in the request is invalid.', noToken),
      awsFails(['secretsmanager', 'list-secrets'], 'UnrecognizedClientException', 'The security token included in the request is invalid.', noToken),
      // bob is not named by app's trust policy
      awsFails(['sts', 'assume-role', '--role-arn', app.Role.Arn, '--role-session-name', 'sx'], 'AccessDenied',
        `User: arn:aws:iam::${ACCOUNT}:user/bob is not authorized to perform: sts:AssumeRole on resource: ${app.Role.Arn}`, bobFile),
      // ops trusts the account: bob also needs an identity policy allowing it
      awsFails(['sts', 'assume-role', '--role-arn', opsArn, '--role-session-name', 'sx'], 'AccessDenied', /sts:AssumeRole on resource/, bobFile),
    ]);
    await awsJson(['iam', 'put-user-policy', '--user-name', 'bob', '--policy-name', 'assume-ops', '--policy-document', allow('sts:AssumeRole', opsArn)]);
    const bobOps = await awsJson(['sts', 'assume-role', '--role-arn', opsArn, '--role-session-name', 'bob-ops', '--duration-seconds', '7200'], bobFile);
    assert.equal(bobOps.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/ops/bob-ops`);
    await awsFails(['sts', 'assume-role', '--role-arn', opsArn, '--role-session-name', 'sx', '--duration-seconds', '7201'], 'ValidationError',
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', bobFile);
    await Promise.all([
      // root: any role whose trust policy names the account; not one that names only alice
      (async () => assert.equal((await awsJson(['sts', 'assume-role', '--role-arn', opsArn, '--role-session-name', 'admin'])).AssumedRoleUser.Arn,
        `arn:aws:sts::${ACCOUNT}:assumed-role/ops/admin`))(),
      awsFails(['sts', 'assume-role', '--role-arn', app.Role.Arn, '--role-session-name', 'admin'], 'AccessDenied', /root is not authorized to perform: sts:AssumeRole/),
      queryFails('sts', { Action: 'AssumeRole', RoleArn: `arn:aws:iam::${ACCOUNT}:role/none`, RoleSessionName: 'admin' }, 'AccessDenied', /sts:AssumeRole on resource: arn:aws:iam::123456789012:role\/none$/),
      awsFails(['sts', 'assume-role', '--role-arn', app.Role.Arn, '--role-session-name', 'a b'], 'ValidationError', /at 'roleSessionName' failed to satisfy constraint/, aliceFile),
    ]);

    // role policies; a role with policies cannot be deleted; deleting it ends its sessions at once
    await awsJson(['iam', 'put-role-policy', '--role-name', 'app', '--policy-name', 'read', '--policy-document', allow('secretsmanager:GetSecretValue', '*')]);
    assert.deepEqual((await awsJson(['iam', 'get-role-policy', '--role-name', 'app', '--policy-name', 'read'])).PolicyDocument, JSON.parse(allow('secretsmanager:GetSecretValue', '*')));
    assert.deepEqual((await awsJson(['iam', 'list-role-policies', '--role-name', 'app'])).PolicyNames, ['read']);
    await awsFails(['iam', 'delete-role', '--role-name', 'app'], 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    await awsJson(['iam', 'delete-role-policy', '--role-name', 'app', '--policy-name', 'read']);
    await queryFails('iam', { Action: 'DeleteRolePolicy', RoleName: 'app', PolicyName: 'read' }, 'NoSuchEntity', 'The role policy with name read cannot be found.');
    await awsJson(['iam', 'delete-role', '--role-name', 'app']);
    await awsFails(['sts', 'get-caller-identity'], 'InvalidClientTokenId', 'The security token included in the request is invalid.', sessionFile);
    await queryFails('iam', { Action: 'GetRole', RoleName: 'app' }, 'NoSuchEntity', 'The role with name app cannot be found.');
  });

  test("botocore's own AssumeRole credential provider (role_arn + source_profile) reads the answers", async () => {
    const config = join(server.dataDir, 'role-profile.config');
    const creds = join(server.dataDir, 'role-profile.credentials');
    writeFileSync(creds, readFileSync(bobFile, 'utf8').replace('[default]', '[bob]'), { mode: 0o600 });
    writeFileSync(config, `[profile ops]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/team/ops\nsource_profile = bob\nrole_session_name = from-profile\nregion = us-east-1\n`);
    const r = await runCommand('aws', ['--output', 'json', '--profile', 'ops', 'sts', 'get-caller-identity'],
      awsCliEnv(creds, server.dataDir, { AWS_CONFIG_FILE: config, AWS_ENDPOINT_URL: server.endpoint, HOME: server.dataDir }), { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/ops/from-profile`);
  });
});

describe('boto3', () => {
  test('users, keys, pagination, policy documents, AssumeRole and error shapes', async () => {
    const script = String.raw`
import json, sys, boto3
from botocore.exceptions import ClientError
url = sys.argv[1]
iam = boto3.client('iam', endpoint_url=url, region_name='us-east-1')
out = {}
for n in ['py-a', 'py-b', 'py-c']:
    iam.create_user(UserName=n, Path='/py/')
pages = iam.get_paginator('list_users').paginate(PathPrefix='/py/', PaginationConfig={'PageSize': 2})
out['pages'] = [[u['UserName'] for u in p['Users']] for p in pages]
key = iam.create_access_key(UserName='py-a')['AccessKey']
sts = boto3.client('sts', endpoint_url=url, region_name='us-east-1', aws_access_key_id=key['AccessKeyId'], aws_secret_access_key=key['SecretAccessKey'])
out['me'] = sts.get_caller_identity()['Arn']
iam.put_user_policy(UserName='py-a', PolicyName='p', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'sts:AssumeRole', 'Resource': '*'}]}))
out['doc'] = iam.get_user_policy(UserName='py-a', PolicyName='p')['PolicyDocument']
role = iam.create_role(RoleName='py-role', AssumeRolePolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'AWS': '${ACCOUNT}'}, 'Action': 'sts:AssumeRole'}]}))['Role']
c = sts.assume_role(RoleArn=role['Arn'], RoleSessionName='py-session', DurationSeconds=900)
s = boto3.client('sts', endpoint_url=url, region_name='us-east-1', aws_access_key_id=c['Credentials']['AccessKeyId'], aws_secret_access_key=c['Credentials']['SecretAccessKey'], aws_session_token=c['Credentials']['SessionToken'])
out['session'] = s.get_caller_identity()
out['expiration_type'] = type(c['Credentials']['Expiration']).__name__
try:
    iam.get_user(UserName='py-nobody')
except ClientError as e:
    out['error'] = {'code': e.response['Error']['Code'], 'message': e.response['Error']['Message'], 'type': e.response['Error'].get('Type'), 'status': e.response['ResponseMetadata']['HTTPStatusCode']}
try:
    iam.delete_user(UserName='py-a')
except iam.exceptions.DeleteConflictException as e:
    out['modeled'] = type(e).__name__
print(json.dumps(out, default=str))
`;
    const r = await runCommand('python3', ['-c', script, server.endpoint], awsCliEnv(rootFile, server.dataDir), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.pages, [['py-a', 'py-b'], ['py-c']]);
    assert.equal(out.me, `arn:aws:iam::${ACCOUNT}:user/py/py-a`);
    assert.deepEqual(out.doc, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] });
    assert.equal(out.session.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/py-role/py-session`);
    assert.match(out.session.UserId, /^AROA[A-Z0-9]{17}:py-session$/);
    assert.equal(out.expiration_type, 'datetime');
    assert.deepEqual(out.error, { code: 'NoSuchEntity', message: 'The user with name py-nobody cannot be found.', type: 'Sender', status: 404 });
    assert.equal(out.modeled, 'DeleteConflictException');
  });
});

describe('the wire: XML answers and errors in IAM\'s shape', () => {
  test('a result document', async () => {
    const r = await query('iam', { Action: 'CreateUser', UserName: 'wire-user', Path: '/wire/' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/xml');
    const id = r.headers['x-amzn-requestid'] as string;
    assert.match(r.body, new RegExp(`^<CreateUserResponse xmlns="${IAM_NS}"><CreateUserResult><User><Path>/wire/</Path><UserName>wire-user</UserName><UserId>AIDA`));
    assert.ok(r.body.endsWith(`</User></CreateUserResult><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></CreateUserResponse>`));
    const del = await query('iam', { Action: 'DeleteUser', UserName: 'wire-user' });
    assert.equal(del.body, `<DeleteUserResponse xmlns="${IAM_NS}"><ResponseMetadata><RequestId>${del.headers['x-amzn-requestid']}</RequestId></ResponseMetadata></DeleteUserResponse>`);
  });

  test('errors: ErrorResponse with Type, Code, Message and the request id; statuses from the model', async () => {
    const r = await query('iam', { Action: 'GetUser', UserName: 'wire-nobody' });
    assert.equal(r.status, 404);
    assert.equal(
      r.body,
      `<ErrorResponse xmlns="${IAM_NS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name wire-nobody cannot be found.</Message></Error>` +
        `<RequestId>${r.headers['x-amzn-requestid']}</RequestId></ErrorResponse>`,
    );
    const cases: [Record<string, string>, number, string, string | RegExp][] = [
      [{ Action: 'CreateUser' }, 400, 'ValidationError', "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"],
      [{ Action: 'CreateUser', UserName: '', Path: 'x' }, 400, 'ValidationError', /^3 validation errors detected: /],
      [{ Action: 'CreateUser', UserName: 'tagged', 'Tags.member.1.Key': 'k', 'Tags.member.1.Value': 'v' }, 400, 'ValidationError', 'Lockstep does not support the Tags parameter.'],
      [{ Action: 'ListUsers', MaxItems: '0' }, 400, 'ValidationError', /at 'maxItems'/],
      [{ Action: 'ListUsers', Marker: '!!' }, 400, 'ValidationError', 'Invalid Marker.'],
      [{ Action: 'CreateGroup', GroupName: 'g' }, 400, 'InvalidAction', 'Could not find operation CreateGroup for version 2010-05-08'],
      [{ Action: 'UpdateAccessKey', UserName: 'bob', AccessKeyId: 'LKIAAAAAAAAAAAAAAAAA', Status: 'Expired' }, 400, 'ValidationError', /enum value set: \[Active, Inactive\]/],
      [{ Action: 'PutUserPolicy', UserName: 'bob', PolicyName: 'p', PolicyDocument: '{"Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue"}}' }, 400, 'MalformedPolicyDocument', 'Policy statement must contain resources.'],
      [{ Action: 'DeleteRole', RoleName: 'nope' }, 404, 'NoSuchEntity', 'The role with name nope cannot be found.'],
    ];
    await Promise.all(cases.map(async ([params, status, code, message]) => {
      const e = await query('iam', params);
      assert.equal(e.status, status, `${JSON.stringify(params)}: ${e.body}`);
      assert.equal(xmlText(e.body, 'Type'), 'Sender');
      await queryFails('iam', params, code, message);
    }));
  });

  test('signature errors in the query protocol\'s words (HTTP 403)', async () => {
    const badSecret = { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'x'.repeat(40) };
    const e1 = await query('sts', { Action: 'GetCallerIdentity' }, badSecret);
    assert.equal(e1.status, 403);
    assert.equal(xmlText(e1.body, 'Code'), 'SignatureDoesNotMatch');
    assert.ok(e1.body.startsWith(`<ErrorResponse xmlns="${STS_NS}">`));
    const e2 = await query('iam', { Action: 'ListUsers' }, { accessKeyId: 'LKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) });
    assert.equal(e2.status, 403);
    assert.equal(xmlText(e2.body, 'Code'), 'InvalidClientTokenId');
    assert.equal(xmlText(e2.body, 'Message'), 'The security token included in the request is invalid.');
    const ok = await query('sts', { Action: 'GetCallerIdentity' });
    assert.equal(xmlText(ok.body, 'Arn'), `arn:aws:iam::${ACCOUNT}:root`);
    assert.ok(ok.body.startsWith(`<GetCallerIdentityResponse xmlns="${STS_NS}"><GetCallerIdentityResult>`));
  });

  test('GetUserPolicy sends the document URL-encoded, as IAM does', async () => {
    const doc = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]\n}';
    await query('iam', { Action: 'CreateUser', UserName: 'enc' });
    assert.equal((await query('iam', { Action: 'PutUserPolicy', UserName: 'enc', PolicyName: 'p', PolicyDocument: doc })).status, 200);
    const r = await query('iam', { Action: 'GetUserPolicy', UserName: 'enc', PolicyName: 'p' });
    const encoded = xmlText(r.body, 'PolicyDocument') ?? '';
    assert.match(encoded, /^%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22/);
    assert.equal(decodeURIComponent(encoded), doc, 'stored and returned as given');
  });
});

describe('secrets as two users and a role decide, through the aws CLI', () => {
  test("identity policies, a resource policy's VersionStage condition, and a role session", async () => {
    const first = await awsJson(['secretsmanager', 'create-secret', '--name', 'team/db', '--secret-string', 'cli-v1']);
    await awsJson(['secretsmanager', 'put-secret-value', '--secret-id', 'team/db', '--secret-string', 'cli-v2']);
    const other = await awsJson(['secretsmanager', 'create-secret', '--name', 'other/db', '--secret-string', 'other-v1']);

    // carol may read team/*; dave has no policy at all.
    const keyFile = async (user: string) => {
      await awsJson(['iam', 'create-user', '--user-name', user]);
      return credentialsFile(user, keysOf((await awsJson(['iam', 'create-access-key', '--user-name', user])).AccessKey));
    };
    const carol = await keyFile('carol');
    const dave = await keyFile('dave');
    await awsJson(['iam', 'put-user-policy', '--user-name', 'carol', '--policy-name', 'team-read',
      '--policy-document', allow('secretsmanager:GetSecretValue', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:team/*`)]);

    assert.equal((await awsJson(['secretsmanager', 'get-secret-value', '--secret-id', 'team/db'], carol)).SecretString, 'cli-v2');
    assert.equal((await awsJson(['secretsmanager', 'get-secret-value', '--secret-id', 'team/db', '--version-stage', 'AWSPREVIOUS'], carol)).SecretString, 'cli-v1');
    await awsFails(['secretsmanager', 'get-secret-value', '--secret-id', 'other/db'], 'AccessDeniedException',
      `User: arn:aws:iam::${ACCOUNT}:user/carol is not authorized to perform: secretsmanager:GetSecretValue on resource: ${other.ARN} because no identity-based policy allows the secretsmanager:GetSecretValue action`, carol);
    await awsFails(['secretsmanager', 'put-secret-value', '--secret-id', 'team/db', '--secret-string', 'by-carol'], 'AccessDeniedException',
      /user\/carol is not authorized to perform: secretsmanager:PutSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:team\/db-/, carol);
    await awsFails(['secretsmanager', 'get-secret-value', '--secret-id', 'team/db'], 'AccessDeniedException', /user\/dave is not authorized to perform: secretsmanager:GetSecretValue/, dave);

    // A role dave may assume (its trust policy names him); the secret's resource policy lets the
    // role read AWSCURRENT and AWSPENDING only, as the seed's does for the rotation role.
    await awsJson(['iam', 'create-role', '--role-name', 'team-reader', '--assume-role-policy-document', trust(`arn:aws:iam::${ACCOUNT}:user/dave`)]);
    await awsJson(['secretsmanager', 'put-resource-policy', '--secret-id', 'team/db', '--block-public-policy', '--resource-policy', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/team-reader` }, Action: 'secretsmanager:GetSecretValue', Resource: '*',
        Condition: { StringEquals: { 'secretsmanager:VersionStage': ['AWSCURRENT', 'AWSPENDING'] } },
      }],
    })]);
    const assumed = await awsJson(['sts', 'assume-role', '--role-arn', `arn:aws:iam::${ACCOUNT}:role/team-reader`, '--role-session-name', 'dave-reads'], dave);
    const session = credentialsFile('dave-session', keysOf(assumed.Credentials));
    assert.equal((await awsJson(['sts', 'get-caller-identity'], session)).Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/team-reader/dave-reads`);
    assert.equal((await awsJson(['secretsmanager', 'get-secret-value', '--secret-id', 'team/db'], session)).SecretString, 'cli-v2');
    await awsFails(['secretsmanager', 'get-secret-value', '--secret-id', 'team/db', '--version-stage', 'AWSPREVIOUS'], 'AccessDeniedException',
      /assumed-role\/team-reader\/dave-reads is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:team\/db-/, session);
    await awsFails(['secretsmanager', 'get-secret-value', '--secret-id', 'other/db'], 'AccessDeniedException', /assumed-role\/team-reader\/dave-reads is not authorized/, session);
    // dave himself is still refused: the resource policy names the role, not him.
    await awsFails(['secretsmanager', 'get-secret-value', '--secret-id', 'team/db'], 'AccessDeniedException', /user\/dave is not authorized/, dave);
    // Nothing was written by the refused calls.
    const versions = await awsJson(['secretsmanager', 'list-secret-version-ids', '--secret-id', 'team/db']);
    assert.equal(versions.Versions.length, 2);
    assert.equal(first.Name, 'team/db');
  });
});

describe('IAM and STS calls in the audit trail', () => {
  test('each call is one record (principal, action, resource, outcome, decision), never a key or token', async () => {
    await awsJson(['iam', 'create-user', '--user-name', 'audited']);
    const key = (await awsJson(['iam', 'create-access-key', '--user-name', 'audited'])).AccessKey;
    const file = credentialsFile('audited', keysOf(key));
    await awsFails(['iam', 'list-users'], 'AccessDenied', /user\/audited is not authorized to perform: iam:ListUsers/, file);
    await awsJson(['iam', 'create-role', '--role-name', 'audited-role', '--assume-role-policy-document', trust(`arn:aws:iam::${ACCOUNT}:user/audited`)]);
    const session = (await awsJson(['sts', 'assume-role', '--role-arn', `arn:aws:iam::${ACCOUNT}:role/audited-role`, '--role-session-name', 's1'], file)).Credentials;
    const text = execFileSync(process.execPath, [MAIN, 'audit', 'query', '--data-dir', server.dataDir], { encoding: 'utf8' });
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const find = (action: string, principal: string) => lines.filter((l) => l.action === action && l.principal === principal);
    const user = `arn:aws:iam::${ACCOUNT}:user/audited`;
    const created = find('iam:CreateAccessKey', 'root').at(-1);
    assert.equal(created?.outcome, 'success');
    assert.equal(created?.resource, user);
    const denied = find('iam:ListUsers', user);
    assert.equal(denied.length, 1);
    assert.equal(denied[0].outcome, 'denied');
    assert.equal(denied[0].errorCode, 'AccessDenied');
    assert.equal(denied[0].accessKeyId, key.AccessKeyId);
    assert.equal(denied[0].decision.effect, 'implicit-deny');
    const assumed = find('sts:AssumeRole', user);
    assert.equal(assumed.length, 1);
    assert.equal(assumed[0].outcome, 'success');
    assert.equal(assumed[0].resource, `arn:aws:iam::${ACCOUNT}:role/audited-role`);
    assert.equal(assumed[0].decision.effect, 'allow');
    assert.match(assumed[0].decision.reason, /^Allowed by statement 1 of the resource policy/);
    for (const secret of [key.SecretAccessKey, session.SecretAccessKey, session.SessionToken]) assert.ok(!text.includes(secret), 'a key or token in the audit trail');
    assert.match(execFileSync(process.execPath, [MAIN, 'audit', 'verify', '--data-dir', server.dataDir], { encoding: 'utf8' }), /ok/i);
  });
});
