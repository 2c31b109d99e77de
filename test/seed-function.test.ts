import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MAIN, ROOT, childEnv, cleanupProcesses, spawnServer, type ServerProcess } from './helpers/process.js';
import { awsCliEnv, finishedRotationRun, runCommand, zipOf, type CommandRun } from './helpers/functions.js';
import { LAMBDA_TRUST } from './helpers/iam.js';
import { seedJson } from './helpers/seed.js';
import { newApiKey, startApiKeyService, type ApiKeyService } from './fixtures/api-key-service.js';

/*
 * The seed's custom rotation function (shared/seed/rotation-strategies.md, "Custom Rotation Lambda"),
 * run UNCHANGED: the "Lambda Structure" module with set_secret/test_secret taken from the "API Key
 * Rotation Example", exactly as a user would paste them together. The only edit is the external
 * service's URL (https://api.example.com → the local fixture). It is registered and rotated with the
 * real `aws` CLI against a `lockstep serve` child process, and the assertions state what that code
 * really does: its createSecret copies the secret and adds a `password`; api_key never changes.
 */

const SEED = fileURLToPath(new URL('../../shared/seed/rotation-strategies.md', import.meta.url));
const EXAMPLE_URL = 'https://api.example.com';
const ROLE = 'arn:aws:iam::123456789012:role/rotation-lambda-role';
const FUNCTION = 'seed-api-key-rotator';
const MODULE = 'seed_rotation';
const EXCLUDED = ['"', '@', '/', '\\'];

const HAVE_AWS = spawnSync('aws', ['--version'], { encoding: 'utf8', env: childEnv() }).status === 0;
const HAVE_REQUESTS = spawnSync('python3', ['-c', 'import boto3, requests'], { encoding: 'utf8', env: childEnv() }).status === 0;

/** The first ```python block after a markdown heading. */
function pythonBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `the seed has no heading '${heading}'`);
  const m = /```python\n([\s\S]*?)\n```/.exec(markdown.slice(at));
  assert.ok(m, `no python block after '${heading}'`);
  return m[1];
}

/** A top-level `def name(...)` with its body, as it stands in the source. */
function pythonFunction(source: string, name: string): string {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`def ${name}(`));
  assert.ok(start >= 0, `no top-level def ${name}`);
  let end = start + 1;
  while (end < lines.length && (lines[end].trim() === '' || /^\s/.test(lines[end]))) end++;
  while (lines[end - 1].trim() === '') end--;
  return lines.slice(start, end).join('\n');
}

const importLines = (source: string) => source.split('\n').filter((l) => /^(import|from) \S/.test(l));

/** The seed's two blocks combined into one module, and the pieces it is made of. */
function seedModule(serviceUrl: string) {
  const md = readFileSync(SEED, 'utf8');
  const structure = pythonBlockAfter(md, '### Lambda Structure');
  const apiKey = pythonBlockAfter(md, '### API Key Rotation Example');
  // The Lambda Structure's set_secret/test_secret are placeholders (they call functions the seed
  // never defines); the API Key example provides the real ones.
  let module = structure;
  for (const name of ['set_secret', 'test_secret']) module = module.replace(pythonFunction(structure, name), pythonFunction(apiKey, name));
  const missing = importLines(apiKey).filter((l) => !importLines(structure).includes(l));
  const lastImport = importLines(structure).at(-1)!;
  module = module.replace(`${lastImport}\n`, `${lastImport}\n${missing.join('\n')}\n`);
  const urls = module.split(EXAMPLE_URL).length - 1;
  module = module.split(EXAMPLE_URL).join(serviceUrl);
  return { module, structure, apiKey, missing, urls };
}

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<CommandRun> => runCommand(cmd, args, env, { timeoutMs: 30_000, cwd: ROOT });

let server: ServerProcess;
let service: ApiKeyService;
let sm: SecretsManagerClient;
let awsEnv: NodeJS.ProcessEnv;
let functionArn: string;

async function aws(...args: string[]): Promise<any> {
  const r = await run('aws', ['--endpoint-url', server.url, '--output', 'json', ...args], awsEnv);
  assert.equal(r.code, 0, `aws ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
}

/** `node dist/cli/main.js <args>` against the server's data directory. */
async function lockstep(...args: string[]): Promise<string> {
  const r = await run(process.execPath, [MAIN, ...args, '--data-dir', server.dataDir], childEnv());
  assert.equal(r.code, 0, `lockstep ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** The newest run of a secret's rotation history (Lockstep.GetRotationHistory), once it has ended. */
const finishedRun = (secretId: string, token: string, timeoutMs?: number): Promise<any> => finishedRotationRun(server, secretId, token, timeoutMs);

const startLines = (log: string) => log.split('\n').filter((l) => /^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/.test(l));

before(async () => {
  service = await startApiKeyService();
  server = await spawnServer({ env: { LOCKSTEP_ROTATION_RETRY_BASE_MS: '100', LOCKSTEP_ROTATION_MAX_ATTEMPTS: '2' } });
  sm = server.client();
  awsEnv = awsCliEnv(join(server.dataDir, 'root-credentials'), server.dataDir);
});
after(async () => {
  await service?.close();
  await cleanupProcesses();
});

describe("the seed's custom rotation function, unchanged", () => {
  test('the aws CLI, boto3 and requests are installed (.ci/run installs them)', () => {
    assert.ok(HAVE_AWS, 'aws --version failed');
    assert.ok(HAVE_REQUESTS, 'python3 cannot import boto3 and requests');
  });

  test('the module is the seed code verbatim, but for the service URL', () => {
    const { module, structure, apiKey, missing, urls } = seedModule('http://127.0.0.1:1');
    assert.equal(urls, 2, 'the API Key example calls the service twice');
    assert.deepEqual(missing, ['import requests']);
    for (const name of ['handler', 'create_secret', 'finish_secret']) assert.ok(module.includes(pythonFunction(structure, name)), name);
    for (const name of ['set_secret', 'test_secret']) {
      assert.ok(module.includes(pythonFunction(apiKey, name).split(EXAMPLE_URL).join('http://127.0.0.1:1')), name);
    }
    assert.ok(!module.includes('update_resource_credential') && !module.includes('verify_credentials_work'));
    assert.ok(module.includes("secrets = boto3.client('secretsmanager')"));
    // it compiles
    const r = spawnSync('python3', ['-c', 'import sys; compile(sys.stdin.read(), "seed_rotation.py", "exec")'], { input: module, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  let secretArn: string;
  const apiKey = newApiKey('sk_seed_');

  test('rotate-secret with the seed function: api_key unchanged, a new password added, the service called with the same key', async () => {
    service.addKey(apiKey);
    const { module } = seedModule(service.url);
    const zipFile = join(server.dataDir, 'seed-rotation.zip');
    writeFileSync(zipFile, zipOf({ [`${MODULE}.py`]: module }));

    // The execution role, made with the aws CLI: Lambda may assume it, and its policy is the seed's, verbatim.
    const role = await aws('iam', 'create-role', '--role-name', 'rotation-lambda-role', '--assume-role-policy-document', JSON.stringify(LAMBDA_TRUST));
    assert.equal(role.Role.Arn, ROLE);
    await aws('iam', 'put-role-policy', '--role-name', 'rotation-lambda-role', '--policy-name', 'rotation', '--policy-document', seedJson('### Lambda Execution Role'));

    const created = await aws('lambda', 'create-function', '--function-name', FUNCTION, '--runtime', 'python3.12',
      '--handler', `${MODULE}.handler`, '--role', ROLE, '--zip-file', `fileb://${zipFile}`, '--timeout', '30');
    functionArn = created.FunctionArn;
    assert.equal(functionArn, `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION}`);
    const granted = await aws('lambda', 'add-permission', '--function-name', FUNCTION, '--statement-id', 'secretsmanager',
      '--action', 'lambda:InvokeFunction', '--principal', 'secretsmanager.amazonaws.com');
    assert.equal(JSON.parse(granted.Statement).Principal.Service, 'secretsmanager.amazonaws.com');

    const secret = await aws('secretsmanager', 'create-secret', '--name', 'prod/partner/api-key', '--secret-string', JSON.stringify({ api_key: apiKey }));
    secretArn = secret.ARN;
    const original = secret.VersionId as string;
    // The seed's resource policy on the secret, verbatim.
    await aws('secretsmanager', 'put-resource-policy', '--secret-id', secretArn, '--resource-policy', seedJson('### Secret Resource Policy'), '--block-public-policy');

    const rotated = await aws('secretsmanager', 'rotate-secret', '--secret-id', 'prod/partner/api-key',
      '--rotation-lambda-arn', functionArn, '--rotation-rules', 'AutomaticallyAfterDays=30');
    const token = rotated.VersionId as string;
    assert.match(token, /^[0-9a-f-]{36}$/);
    assert.equal(rotated.ARN, secretArn);

    const runRecord = await finishedRun(secretArn, token);
    assert.equal(runRecord.State, 'succeeded', JSON.stringify(runRecord));

    // The new AWSCURRENT: the same api_key, plus the password the seed's createSecret adds.
    const current = await sm.send(new GetSecretValueCommand({ SecretId: secretArn }));
    assert.equal(current.VersionId, token);
    const value = JSON.parse(current.SecretString!);
    assert.deepEqual(Object.keys(value).sort(), ['api_key', 'password']);
    assert.equal(value.api_key, apiKey, 'the seed never changes api_key');
    assert.equal(value.password.length, 32);
    for (const c of EXCLUDED) assert.ok(!value.password.includes(c), `the password contains the excluded ${c}`);
    assert.match(value.password, /^[\x21-\x7e]{32}$/);

    // AWSPREVIOUS holds the old version, unchanged; AWSPENDING is gone.
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSPREVIOUS' }));
    assert.equal(previous.VersionId, original);
    assert.deepEqual(JSON.parse(previous.SecretString!), { api_key: apiKey });
    const d = await sm.send(new DescribeSecretCommand({ SecretId: secretArn }));
    assert.deepEqual(d.VersionIdsToStages, { [original]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    assert.equal(d.RotationEnabled, true);
    assert.equal(d.RotationLambdaARN, functionArn);
    assert.deepEqual(d.RotationRules, { AutomaticallyAfterDays: 30 });
    assert.ok(d.LastRotatedDate instanceof Date && d.NextRotationDate instanceof Date);

    // What the service saw: setSecret "rotated" the key to itself, testSecret checked it.
    assert.deepEqual(service.requests.map((r) => ({ method: r.method, path: r.path, bearer: r.bearer, body: r.body, status: r.status })), [
      { method: 'POST', path: '/v1/api-keys/rotate', bearer: apiKey, body: { new_key: apiKey }, status: 200 },
      { method: 'GET', path: '/v1/me', bearer: apiKey, body: undefined, status: 200 },
    ]);
    assert.deepEqual(service.activeKeys(), [apiKey]);
    assert.deepEqual(service.revokedKeys(), []);

    // The history: one run, the four steps, each succeeded at its first attempt.
    const history = JSON.parse(await lockstep('rotation', 'history', 'prod/partner/api-key', '--json'));
    assert.equal(history.length, 1);
    assert.equal(history[0].Token, token);
    assert.equal(history[0].State, 'succeeded');
    assert.equal(history[0].FunctionArn, functionArn);
    assert.deepEqual(history[0].Steps.map((s: any) => `${s.Step}:${s.Attempt}:${s.Outcome}`), [
      'createSecret:1:succeeded', 'setSecret:1:succeeded', 'testSecret:1:succeeded', 'finishSecret:1:succeeded',
    ]);
    const text = await lockstep('rotation', 'history', 'prod/partner/api-key');
    assert.match(text, new RegExp(`^run \\d+ rotate succeeded token ${token} `, 'm'));
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) assert.match(text, new RegExp(`${step}\\s+attempt 1 succeeded`));

    // The function's log: four invocations, framed like Lambda's, no errors.
    const log = await lockstep('functions', 'logs', FUNCTION);
    assert.equal(startLines(log).length, 4, log);
    assert.equal((log.match(/^END RequestId: /gm) ?? []).length, 4);
    assert.equal((log.match(/^REPORT RequestId: .*\tDuration: /gm) ?? []).length, 4);
    assert.ok(!log.includes('[ERROR]'), log);
    assert.ok(!log.includes(apiKey) && !log.includes(value.password), 'the log holds no secret');

    // Every call the function made was signed by a session of its execution role, none was denied.
    const session = `arn:aws:sts::123456789012:assumed-role/rotation-lambda-role/${FUNCTION}`;
    const audit = (await lockstep('audit', 'query', '--principal', session)).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual([...new Set(audit.map((r) => r.action))].sort(), [
      'secretsmanager:DescribeSecret', 'secretsmanager:GetRandomPassword', 'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage',
    ]);
    assert.ok(audit.every((r) => r.outcome !== 'denied' && r.accessKeyId.startsWith('LSIA')), JSON.stringify(audit));
  });

  test('with a key the service does not know, setSecret fails: retried, the run fails, AWSCURRENT stays', async () => {
    const unknown = newApiKey('sk_unknown_');
    service.clearRequests();
    const logBefore = startLines(await lockstep('functions', 'logs', FUNCTION)).length;
    const secret = await aws('secretsmanager', 'create-secret', '--name', 'prod/partner/stale-key', '--secret-string', JSON.stringify({ api_key: unknown }));
    const rotated = await aws('secretsmanager', 'rotate-secret', '--secret-id', secret.ARN, '--rotation-lambda-arn', functionArn,
      '--rotation-rules', 'AutomaticallyAfterDays=30');
    const runRecord = await finishedRun(secret.ARN, rotated.VersionId);
    assert.equal(runRecord.State, 'failed');
    assert.deepEqual(runRecord.Steps.map((s: any) => `${s.Step}:${s.Attempt}:${s.Outcome}`), [
      'createSecret:1:succeeded', 'setSecret:1:failed', 'setSecret:2:failed',
    ]);
    assert.match(runRecord.Steps[1].Error, /^Exception: Failed to rotate API key: \{"error":"invalid api key"\}$/);
    assert.match(runRecord.LastError, /^setSecret failed after 2 attempt\(s\): Exception: Failed to rotate API key: /);

    // The service refused both attempts; testSecret never ran.
    assert.deepEqual(service.requests.map((r) => `${r.method} ${r.path} ${r.status}`), ['POST /v1/api-keys/rotate 401', 'POST /v1/api-keys/rotate 401']);
    assert.ok(service.requests.every((r) => r.bearer === unknown));

    // AWSCURRENT is untouched; AWSPENDING is gone; the version createSecret wrote is left unlabelled.
    const current = await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN }));
    assert.equal(current.VersionId, secret.VersionId);
    assert.deepEqual(JSON.parse(current.SecretString!), { api_key: unknown });
    const d = await sm.send(new DescribeSecretCommand({ SecretId: secret.ARN }));
    assert.deepEqual(d.VersionIdsToStages, { [secret.VersionId]: ['AWSCURRENT'] });
    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secret.ARN, IncludeDeprecated: true }));
    assert.deepEqual(all.Versions!.map((v) => v.VersionId).sort(), [secret.VersionId, rotated.VersionId].sort());

    const log = await lockstep('functions', 'logs', FUNCTION);
    assert.equal(startLines(log).length - logBefore, 3, 'createSecret once, setSecret twice');
    assert.match(log, /\[ERROR\] Exception: Failed to rotate API key/);
  });
});
