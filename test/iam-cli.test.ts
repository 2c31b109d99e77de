import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupProcesses, launchServer, parseCredentialsFile, runCli, spawnServer, tempDir, type ServerProcess } from './helpers/process.js';
import { awsCliEnv, runCommand } from './helpers/functions.js';

/*
 * `lockstep iam` on the data directory of a running server: what it creates works on the server at
 * once, what it deactivates stops within about a second, and its errors are IAM's.
 */

after(cleanupProcesses);

const ACCOUNT = '111122223333';

describe('lockstep iam against a running server', () => {
  let server: ServerProcess;
  before(async () => {
    server = await spawnServer({ args: ['--account-id', ACCOUNT] });
  });

  /** `lockstep iam <args> --data-dir <server's>`; its JSON output, or the failure. */
  function iam(args: string[]) {
    return runCli(['iam', ...args, '--data-dir', server.dataDir]);
  }
  function iamJson(args: string[]): any {
    const r = iam(args);
    assert.equal(r.code, 0, `lockstep iam ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
  }
  function aws(args: string[], credentialsFile: string) {
    return runCommand('aws', ['--endpoint-url', server.url, '--output', 'json', ...args], awsCliEnv(credentialsFile, server.dataDir), { timeoutMs: 30_000 });
  }

  test('users and keys: a key written to a credentials file works on the server at once; deactivated, it stops', async () => {
    const user = iamJson(['create-user', 'deploy', '--path', '/ci/']).User;
    assert.equal(user.Arn, `arn:aws:iam::${ACCOUNT}:user/ci/deploy`, "the data directory's account");
    assert.match(user.UserId, /^AIDA/);
    const file = join(tempDir(), 'deploy.credentials');
    const created = iamJson(['create-access-key', 'deploy', '--credentials-file', file]);
    assert.equal(created.AccessKey.UserName, 'deploy');
    assert.equal(created.AccessKey.SecretAccessKey, undefined, 'not printed when written to a file');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const pair = parseCredentialsFile(readFileSync(file, 'utf8'));
    assert.equal(pair.accessKeyId, created.AccessKey.AccessKeyId);

    const who = await aws(['sts', 'get-caller-identity'], file);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).Arn, user.Arn);

    const refuse = iam(['create-access-key', 'deploy', '--credentials-file', file]);
    assert.equal(refuse.code, 1);
    assert.match(refuse.stderr, /exists; not overwriting it/);
    const second = iamJson(['create-access-key', 'deploy']).AccessKey;
    assert.equal(second.SecretAccessKey.length, 40, 'printed when no file is asked for');
    const third = iam(['create-access-key', 'deploy']);
    assert.equal(third.code, 1);
    assert.equal(third.stderr, 'lockstep: LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2\n');
    assert.deepEqual(iamJson(['list-access-keys', 'deploy']).AccessKeyMetadata.map((k: any) => k.AccessKeyId).sort(), [pair.accessKeyId, second.AccessKeyId].sort());

    iamJson(['update-access-key', 'deploy', pair.accessKeyId, '--status', 'Inactive']);
    const changed = Date.now();
    let stoppedAfter = -1;
    while (Date.now() - changed < 10_000) {
      const r = await aws(['sts', 'get-caller-identity'], file);
      if (r.code !== 0) {
        assert.match(r.stderr, /InvalidClientTokenId/);
        stoppedAfter = Date.now() - changed;
        break;
      }
    }
    assert.ok(stoppedAfter >= 0, 'the deactivated key kept working');
    const bad = iam(['update-access-key', 'deploy', pair.accessKeyId, '--status', 'Off']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--status.*Off.*Allowed choices are Active, Inactive/);

    const conflict = iam(['delete-user', 'deploy']);
    assert.equal(conflict.stderr, 'lockstep: DeleteConflict: Cannot delete entity, must delete access keys first.\n');
    iamJson(['delete-access-key', 'deploy', pair.accessKeyId]);
    iamJson(['delete-access-key', 'deploy', second.AccessKeyId]);
    assert.deepEqual(iamJson(['delete-user', 'deploy']), {});
    assert.equal(iam(['get-user', 'deploy']).stderr, 'lockstep: NoSuchEntity: The user with name deploy cannot be found.\n');
  });

  test('roles and inline policies from JSON, files and file:// paths', async () => {
    const dir = tempDir();
    const trustFile = join(dir, 'trust.json');
    writeFileSync(trustFile, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }] }));
    const role = iamJson(['create-role', 'worker', '--trust-policy', `file://${trustFile}`, '--description', 'batch jobs', '--max-session-duration', '7200']).Role;
    assert.equal(role.Arn, `arn:aws:iam::${ACCOUNT}:role/worker`);
    assert.equal(role.MaxSessionDuration, 7200);
    assert.equal(role.Description, 'batch jobs');
    assert.deepEqual(role.AssumeRolePolicyDocument.Statement[0].Principal, { AWS: ACCOUNT });
    assert.deepEqual(iamJson(['list-roles']).Roles.map((r: any) => r.RoleName), ['worker']);

    const policyFile = join(dir, 'read.json');
    const read = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] };
    writeFileSync(policyFile, JSON.stringify(read));
    iamJson(['put-role-policy', 'worker', '--name', 'read', '--policy', policyFile]);
    iamJson(['put-role-policy', 'worker', '--name', 'inline', '--policy', JSON.stringify(read)]);
    assert.deepEqual(iamJson(['get-role-policy', 'worker', '--name', 'read']), { RoleName: 'worker', PolicyName: 'read', PolicyDocument: read });
    assert.deepEqual(iamJson(['list-role-policies', 'worker']).PolicyNames, ['inline', 'read']);
    const malformed = iam(['put-role-policy', 'worker', '--name', 'bad', '--policy', '{"Statement": "nope"}']);
    assert.equal(malformed.code, 1);
    assert.equal(malformed.stderr, 'lockstep: MalformedPolicyDocument: Syntax errors in policy.\n');
    const missing = iam(['put-role-policy', 'worker', '--name', 'bad', '--policy', join(dir, 'none.json')]);
    assert.match(missing.stderr, /--policy: '.*none\.json' is neither a JSON policy nor a readable file \(ENOENT\)/);
    assert.match(iam(['delete-role', 'worker']).stderr, /DeleteConflict: Cannot delete entity, must delete policies first\./);
    iamJson(['delete-role-policy', 'worker', '--name', 'read']);
    iamJson(['delete-role-policy', 'worker', '--name', 'inline']);
    assert.match(iam(['get-role-policy', 'worker', '--name', 'read']).stderr, /NoSuchEntity: The role policy with name read cannot be found\./);

    iamJson(['create-user', 'reader']);
    iamJson(['put-user-policy', 'reader', '--name', 'read', '--policy', JSON.stringify(read)]);
    assert.deepEqual(iamJson(['get-user-policy', 'reader', '--name', 'read']).PolicyDocument, read);
    assert.deepEqual(iamJson(['list-user-policies', 'reader']).PolicyNames, ['read']);
    iamJson(['delete-user-policy', 'reader', '--name', 'read']);
    assert.deepEqual(iamJson(['list-users', '--path-prefix', '/']).Users.map((u: any) => u.UserName), ['reader']);
    iamJson(['delete-role', 'worker']);
  });

  test('a server started with another account refuses a data directory with users of the first', async () => {
    iamJson(['create-user', 'anchor']);
    const other = launchServer({ dataDir: server.dataDir, args: ['--account-id', '123456789012'] });
    const st = await other.waitExit();
    assert.equal(st.code, 1);
    assert.match(other.stderr() + other.stdout(), new RegExp(`belong to account ${ACCOUNT}, not 123456789012: start with --account-id ${ACCOUNT}`));
    iamJson(['delete-user', 'anchor']);
  });

  test('refusals: no data, another account, bad names', () => {
    const empty = runCli(['iam', 'list-users', '--data-dir', join(tempDir(), 'none')]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^lockstep: no Lockstep data in /);
    assert.ok(!existsSync(join(tempDir(), 'none')));
    const other = iam(['list-users', '--account-id', '123456789012']);
    assert.equal(other.stderr, `lockstep: the data directory belongs to account ${ACCOUNT}, not 123456789012\n`);
    assert.match(iam(['create-user', 'bad name']).stderr, /ValidationError: 1 validation error detected: Value 'bad name' at 'userName'/);
  });
});
