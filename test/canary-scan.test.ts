import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetSecretValueCommand, CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createRotationFunction, finishedRotationRun } from './helpers/functions.js';
import { executionRole, userWithPolicies, type Keys } from './helpers/iam.js';
import { MAIN, childEnv, cleanupProcesses, spawnServer, type ServerProcess } from './helpers/process.js';
import { sdkSignedPost } from './helpers/raw.js';

/*
 * One secret value, a canary, goes through everything access control adds (allowed and denied reads,
 * denied and invalid writes, a batch read filtered per secret, a rotation function running as its
 * execution role that fails) on a server logging at debug level. Then the server's stdout and stderr,
 * the audit trail, the rotation history and every file of the data directory are searched for it.
 */

const CANARY = `canary-${randomBytes(12).toString('hex')}`;

/** Reads the secret (as its role), then fails setSecret with a message that holds no value. */
const ROTATOR = `import os, boto3
def lambda_handler(event, context):
    with open(os.environ["KEYS_FILE"], "a") as f:
        f.write(os.environ["AWS_SECRET_ACCESS_KEY"] + " " + os.environ["AWS_SESSION_TOKEN"] + "\\n")
    sm = boto3.client("secretsmanager")
    value = sm.get_secret_value(SecretId=event["SecretId"])["SecretString"]
    if event["Step"] == "createSecret":
        try:
            sm.get_secret_value(SecretId=event["SecretId"], VersionId=event["ClientRequestToken"], VersionStage="AWSPENDING")
        except sm.exceptions.ResourceNotFoundException:
            sm.put_secret_value(SecretId=event["SecretId"], ClientRequestToken=event["ClientRequestToken"],
                                SecretString=value + "-next", VersionStages=["AWSPENDING"])
    elif event["Step"] == "setSecret":
        raise RuntimeError("the downstream service refused the new credential (length %d)" % len(value))
`;

let server: ServerProcess;
let root: Keys;

before(async () => {
  server = await spawnServer({ env: { LOCKSTEP_LOG_LEVEL: 'debug', LOCKSTEP_ROTATION_RETRY_BASE_MS: '50', LOCKSTEP_ROTATION_MAX_ATTEMPTS: '2' } });
  root = server.readCredentials();
});
after(() => cleanupProcesses());

/** Every file under a directory, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('the canary is in no log line, error, audit record, history entry or data file', async () => {
  const sm = server.client();
  const created = await sm.send(new CreateSecretCommand({ Name: 'canary/db', SecretString: CANARY }));
  const reader = await userWithPolicies(server.url, root, 'reader', {
    read: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'], Resource: '*' }] },
  });
  // May call BatchGetSecretValue, but read no secret through it.
  const nobody = await userWithPolicies(server.url, root, 'nobody', {
    batch: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' }] },
  });
  const asReader = server.client({ credentials: reader });
  const asNobody = server.client({ credentials: nobody });

  // Allowed and denied reads; denied and invalid writes that carry a value.
  assert.equal((await asReader.send(new GetSecretValueCommand({ SecretId: 'canary/db' }))).SecretString, CANARY);
  const errors: string[] = [];
  const expectError = async (p: Promise<unknown>, name: string) => {
    await assert.rejects(p, (e: any) => {
      assert.equal(e.name, name, e.message);
      errors.push(`${e.name}: ${e.message}`);
      return true;
    });
  };
  await expectError(asNobody.send(new GetSecretValueCommand({ SecretId: 'canary/db' })), 'AccessDeniedException');
  await expectError(asNobody.send(new PutSecretValueCommand({ SecretId: 'canary/db', SecretString: `${CANARY}-denied` })), 'AccessDeniedException');
  await expectError(sm.send(new PutSecretValueCommand({ SecretId: 'canary/db', SecretString: `${CANARY}-invalid`, ClientRequestToken: 'short' })), 'ValidationException');
  await expectError(sm.send(new CreateSecretCommand({ Name: 'canary/both', SecretString: `${CANARY}-both`, SecretBinary: Buffer.from(CANARY) })), 'InvalidParameterException');
  const garbled = await sdkSignedPost({ endpoint: server.url, region: 'us-east-1', credentials: root }, 'PutSecretValue', `{"SecretId": "canary/db", "SecretString": "${CANARY}-garbled`);
  assert.equal(garbled.status, 400);
  errors.push(garbled.body);
  const batch = await asNobody.send(new BatchGetSecretValueCommand({ SecretIdList: ['canary/db'] }));
  assert.equal(batch.SecretValues?.length ?? 0, 0);
  assert.equal(batch.Errors?.[0]?.ErrorCode, 'AccessDeniedException');
  errors.push(JSON.stringify(batch.Errors));

  // A rotation function, as its execution role, reads the value and fails setSecret.
  const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...root }, maxAttempts: 1 });
  const role = await executionRole(server.url, root, 'canary-rotation');
  const keysFile = join(mkdtempSync(join(tmpdir(), 'lockstep-canary-keys-')), 'keys');
  const fn = await createRotationFunction(lambda, {
    name: 'canary-rotator', role, code: { 'rotator.py': ROTATOR }, handler: 'rotator.lambda_handler', timeout: 30, env: { KEYS_FILE: keysFile },
  });
  lambda.destroy();
  const rotated = await sm.send(new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: fn }));
  const run = await finishedRotationRun(server, created.ARN!, rotated.VersionId!);
  assert.equal(run.State, 'failed');
  assert.match(run.LastError, /the downstream service refused the new credential/);

  // Each denial named the principal, action and resource; none carried a value.
  assert.ok(errors.some((e) => e.includes('arn:aws:iam::123456789012:user/nobody is not authorized to perform: secretsmanager:GetSecretValue')), errors.join('\n'));
  for (const e of errors) assert.ok(!e.includes(CANARY), `an error carries the canary: ${e}`);

  const lockstep = (...args: string[]) => execFileSync(process.execPath, [MAIN, ...args, '--data-dir', server.dataDir], { encoding: 'utf8', env: childEnv() });
  const audit = lockstep('audit', 'query');
  assert.ok(audit.includes('"outcome":"denied"') && audit.includes('rotation:RotationFailed'), 'the audit trail recorded the calls');
  const history = lockstep('rotation', 'history', 'canary/db', '--json');
  const logs = lockstep('functions', 'logs', 'canary-rotator');
  assert.match(logs, /RuntimeError: the downstream service refused/);
  assert.match(lockstep('audit', 'verify'), /ok/i);

  await server.stop();
  const outputs: Record<string, string> = { stdout: server.stdout(), stderr: server.stderr(), audit, history, 'function log': logs };
  assert.ok(server.stdout().length > 0, 'the server logged nothing');
  for (const [what, text] of Object.entries(outputs)) assert.ok(!text.includes(CANARY), `the canary is in the ${what}`);
  // The execution role's session keys (the secret part and the token the function saw) are secrets too.
  const sessionSecrets = readFileSync(keysFile, 'utf8').trim().split(/\s+/);
  assert.ok(sessionSecrets.length >= 4, 'the function recorded no keys');
  const files = filesUnder(server.dataDir);
  assert.ok(files.length >= 3, files.join(', '));
  for (const needle of [CANARY, ...sessionSecrets]) {
    for (const [what, text] of Object.entries(outputs)) assert.ok(!text.includes(needle), `a secret is in the ${what}`);
    for (const f of files) assert.ok(!readFileSync(f).includes(needle), `a secret is in ${f}`);
  }
});
