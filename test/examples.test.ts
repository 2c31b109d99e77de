import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { zipSync } from 'fflate';
import { AddPermissionCommand, CreateFunctionCommand, InvokeCommand, LambdaClient, type Runtime } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, RotateSecretCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { executionRole } from './helpers/iam.js';
import { MAIN, ROOT, childEnv, cleanupProcesses, spawnServer, type ServerProcess } from './helpers/process.js';
import { finishedRotationRun } from './helpers/functions.js';
import { newApiKey, startApiKeyService, type ApiKeyService } from './fixtures/api-key-service.js';

/*
 * The corrected API-key rotation examples (docs/examples/python/api_key_rotation.py and
 * docs/examples/node/api-key-rotation.mjs), end to end: registered through the Lambda API, granted to
 * secretsmanager.amazonaws.com, and rotated by a `lockstep serve` child process against the local
 * API-key service. Each rotation must mint a new key, test it, make it AWSCURRENT and revoke the old
 * one; retries after lost responses must neither mint a second key nor fail on an already revoked one.
 */

const ROLE = 'arn:aws:iam::123456789012:role/rotation-lambda-role';
const REGION = 'us-east-1';
const HAVE_PYTHON_DEPS = spawnSync('python3', ['-c', 'import boto3, requests'], { encoding: 'utf8', env: childEnv() }).status === 0;

/** The package directory `name` resolves to from `from`, the way node walks node_modules upwards. */
function locatePackage(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * A package and everything it depends on (dependencies and installed optionalDependencies, found as
 * node would), as zip entries under node_modules/ with the layout they have in this repository, so
 * that resolution inside the function's code directory finds the same files. Type declarations and
 * source maps are left out.
 */
function nodeModulesEntries(pkg: string): Record<string, Uint8Array> {
  const start = locatePackage(ROOT, pkg);
  assert.ok(start, `${pkg} is not installed (npm ci)`);
  const dirs = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const dir = queue.pop()!;
    if (dirs.has(dir)) continue;
    dirs.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      const found = locatePackage(dir, dep);
      assert.ok(found, `${dep} (a dependency of ${dir}) is not installed`);
      queue.push(found);
    }
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) {
      const found = locatePackage(dir, dep);
      if (found) queue.push(found);
    }
  }
  const entries: Record<string, Uint8Array> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'dist-types') walk(p);
      } else if (e.isFile() && !e.name.endsWith('.d.ts') && !e.name.endsWith('.map')) {
        entries[relative(ROOT, p).split('\\').join('/')] = readFileSync(p);
      }
    }
  };
  for (const dir of dirs) walk(dir);
  return entries;
}

interface Example {
  name: string;
  runtime: Runtime;
  handler: string;
  /** The zip's files. */
  files(): Record<string, Uint8Array>;
  /** How the runtime names an error the example raises. */
  errorType: string;
}

const PY_FILE = join(ROOT, 'docs/examples/python/api_key_rotation.py');
const NODE_FILE = join(ROOT, 'docs/examples/node/api-key-rotation.mjs');

const EXAMPLES: Example[] = [
  {
    name: 'python',
    runtime: 'python3.12',
    handler: 'api_key_rotation.lambda_handler',
    files: () => ({ 'api_key_rotation.py': readFileSync(PY_FILE) }),
    errorType: 'RuntimeError',
  },
  {
    name: 'node',
    runtime: 'nodejs20.x',
    handler: 'api-key-rotation.handler',
    files: () => ({ 'api-key-rotation.mjs': readFileSync(NODE_FILE), ...nodeModulesEntries('@aws-sdk/client-secrets-manager') }),
    errorType: 'Error',
  },
];

let server: ServerProcess;
let sm: SecretsManagerClient;
let lambda: LambdaClient;

before(async () => {
  server = await spawnServer({ env: { LOCKSTEP_ROTATION_RETRY_BASE_MS: '100', LOCKSTEP_ROTATION_MAX_ATTEMPTS: '3' } });
  sm = server.client();
  lambda = new LambdaClient({ endpoint: server.url, region: REGION, credentials: { ...server.readCredentials() }, maxAttempts: 1 });
  await executionRole(server.url, server.readCredentials(), 'rotation-lambda-role');
});
after(async () => {
  lambda?.destroy();
  await cleanupProcesses();
});

/** The run of a rotation token (Lockstep.GetRotationHistory), once it has ended. */
const finishedRun = (secretId: string, token: string, timeoutMs?: number): Promise<any> => finishedRotationRun(server, secretId, token, timeoutMs);

const steps = (run: any) => run.Steps.map((s: any) => `${s.Step}:${s.Attempt}:${s.Outcome}`);
const FOUR_STEPS = ['createSecret:1:succeeded', 'setSecret:1:succeeded', 'testSecret:1:succeeded', 'finishSecret:1:succeeded'];

/** GET /v1/me straight at the service: the status a client holding `key` gets. */
async function me(service: ApiKeyService, key: string): Promise<number> {
  const res = await fetch(`${service.url}/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status;
}

/** What the service saw, compactly. */
const seen = (service: ApiKeyService) => service.requests.map((r) => `${r.method} ${r.path} ${r.status}`);

function logOf(fn: string): string {
  const r = spawnSync(process.execPath, [MAIN, 'functions', 'logs', fn, '--data-dir', server.dataDir], { encoding: 'utf8', env: childEnv() });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

for (const ex of EXAMPLES) {
  describe(`the ${ex.name} example rotates an API key for real`, () => {
    let service: ApiKeyService;
    const fn = `api-key-rotator-${ex.name}`;
    const secretName = `examples/${ex.name}/partner-api`;
    const k0 = newApiKey('lk_initial_');
    let arn: string;
    let functionArn: string;
    let v0: string;
    const keys: string[] = [k0];
    const tokens: string[] = [];

    before(async () => {
      service = await startApiKeyService({ keys: [k0] });
    });
    after(() => service?.close());

    if (ex.name === 'python') {
      test('boto3 and requests are installed for python3', () => assert.ok(HAVE_PYTHON_DEPS));
    }

    test('create-function with API_BASE_URL, add-permission, create the secret', async () => {
      const created = await lambda.send(new CreateFunctionCommand({
        FunctionName: fn, Runtime: ex.runtime, Role: ROLE, Handler: ex.handler, Timeout: 30,
        Code: { ZipFile: zipSync(ex.files()) },
        Environment: { Variables: { API_BASE_URL: service.url } },
      }));
      functionArn = created.FunctionArn!;
      assert.equal(functionArn, `arn:aws:lambda:${REGION}:123456789012:function:${fn}`);
      await lambda.send(new AddPermissionCommand({
        FunctionName: fn, StatementId: 'secretsmanager', Action: 'lambda:InvokeFunction', Principal: 'secretsmanager.amazonaws.com',
      }));
      const secret = await sm.send(new CreateSecretCommand({ Name: secretName, SecretString: JSON.stringify({ api_key: k0, client_id: 'app-42' }) }));
      arn = secret.ARN!;
      v0 = secret.VersionId!;
    });

    /** RotateSecret, waited for; returns the run and the new key after checking the rotation succeeded. */
    async function rotate(expectedSteps = FOUR_STEPS): Promise<{ run: any; key: string; token: string }> {
      const out = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: functionArn, RotationRules: { AutomaticallyAfterDays: 30 } }));
      const token = out.VersionId!;
      const run = await finishedRun(arn, token);
      assert.equal(run.State, 'succeeded', JSON.stringify(run));
      assert.deepEqual(steps(run), expectedSteps);
      const current = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
      assert.equal(current.VersionId, token);
      const value = JSON.parse(current.SecretString!);
      assert.deepEqual(Object.keys(value).sort(), ['api_key', 'client_id']);
      assert.equal(value.client_id, 'app-42', 'the other fields are kept');
      tokens.push(token);
      keys.push(value.api_key);
      return { run, key: value.api_key, token };
    }

    test('first rotation: a new key is minted, tested, made AWSCURRENT; the old key is revoked', async () => {
      service.clearRequests();
      const { key: k1, token } = await rotate();
      assert.notEqual(k1, k0);
      assert.deepEqual(service.mintedKeys(), [k1]);
      assert.deepEqual(service.requests.map((r) => ({ m: r.method, p: r.path, bearer: r.bearer, idem: r.idempotencyKey, s: r.status })), [
        { m: 'POST', p: '/v1/api-keys', bearer: k0, idem: token, s: 201 },
        { m: 'GET', p: '/v1/me', bearer: k1, idem: undefined, s: 200 },
        { m: 'DELETE', p: `/v1/api-keys/${k0}`, bearer: k1, idem: undefined, s: 204 },
      ]);
      assert.equal(await me(service, k1), 200, 'the new key works');
      assert.equal(await me(service, k0), 401, 'the old key is revoked');
      assert.deepEqual(service.activeKeys(), [k1]);
      const d = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
      assert.deepEqual(d.VersionIdsToStages, { [v0]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
      const previous = await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }));
      assert.equal(JSON.parse(previous.SecretString!).api_key, k0);
    });

    test('second rotation in a row: another new key, and the first new key is revoked', async () => {
      service.clearRequests();
      const [, k1] = keys;
      const { key: k2, token } = await rotate();
      assert.ok(k2 !== k1 && k2 !== k0);
      assert.deepEqual(seen(service), ['POST /v1/api-keys 201', 'GET /v1/me 200', `DELETE /v1/api-keys/${k1} 204`]);
      assert.equal(service.requests[2].bearer, k2);
      assert.equal(await me(service, k2), 200);
      assert.equal(await me(service, k1), 401, 'the first new key is revoked');
      assert.equal(await me(service, k0), 401);
      assert.deepEqual(service.activeKeys(), [k2]);
      const d = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
      assert.deepEqual(d.VersionIdsToStages![token], ['AWSCURRENT']);
      assert.deepEqual(d.VersionIdsToStages![tokens[0]], ['AWSPREVIOUS']);
      assert.deepEqual(d.VersionIdsToStages![v0] ?? [], [], 'the first version lost its labels');
      assert.equal(JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }))).SecretString!).api_key, k1);
    });

    test('lost responses: createSecret and finishSecret are retried without a second key or a failed revoke', async () => {
      service.clearRequests();
      const k2 = keys[2];
      // The service does the work but the answer never arrives (503 after handling).
      service.failNext({ method: 'POST', pathPrefix: '/v1/api-keys', afterHandling: true });
      service.failNext({ method: 'DELETE', pathPrefix: '/v1/api-keys/', afterHandling: true });
      const { run, key: k3, token } = await rotate([
        'createSecret:1:failed', 'createSecret:2:succeeded', 'setSecret:1:succeeded', 'testSecret:1:succeeded',
        'finishSecret:1:failed', 'finishSecret:2:succeeded',
      ]);
      assert.equal(run.Steps[0].Error, `${ex.errorType}: createSecret: minting a new API key failed with HTTP 503`);
      assert.equal(run.Steps[4].Error, `${ex.errorType}: finishSecret: revoking the previous API key failed with HTTP 503`);
      assert.deepEqual(seen(service), [
        'POST /v1/api-keys 503', 'POST /v1/api-keys 201', 'GET /v1/me 200', `DELETE /v1/api-keys/${k2} 503`, `DELETE /v1/api-keys/${k2} 404`,
      ]);
      assert.equal(service.requests[0].idempotencyKey, token);
      assert.equal(service.requests[1].idempotencyKey, token);
      assert.equal(service.mintedKeys().length, 3, 'the retry got the key minted by the first attempt');
      assert.equal(service.mintedKeys()[2], k3);
      assert.deepEqual(service.activeKeys(), [k3]);
      assert.equal(await me(service, k3), 200);
      assert.equal(await me(service, k2), 401);
    });

    test('RotateImmediately=false runs testSecret only, against the current key', async () => {
      service.clearRequests();
      const k3 = keys[3];
      const before = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
      const out = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: functionArn, RotateImmediately: false }));
      const run = await finishedRun(arn, out.VersionId!);
      assert.equal(run.Kind, 'test');
      assert.equal(run.State, 'succeeded');
      assert.deepEqual(steps(run), ['testSecret:1:succeeded']);
      assert.deepEqual(service.requests.map((r) => `${r.method} ${r.path} ${r.status} ${r.bearer === k3}`), ['GET /v1/me 200 true']);
      const afterwards = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
      assert.deepEqual(afterwards.VersionIdsToStages, before.VersionIdsToStages);
      assert.deepEqual(service.activeKeys(), [k3]);
    });

    test("the function's log shows its steps and no key", () => {
      const log = logOf(fn);
      assert.match(log, /createSecret: stored a new API key as AWSPENDING/);
      assert.match(log, /setSecret: nothing to do/);
      assert.match(log, /testSecret: the new API key works/);
      assert.match(log, /finishSecret: revoked the previous key/);
      assert.match(log, /finishSecret: the previous key was already revoked/);
      for (const k of keys) assert.ok(!log.includes(k), 'an API key is in the log');
    });
  });
}

describe('node: how a function finds @aws-sdk/client-secrets-manager', () => {
  const payload = { SecretId: 'x', ClientRequestToken: 'y', Step: 'createSecret' };

  test('NODE_PATH in the Environment is not honoured by an ES module import: the SDK must be in the zip', async () => {
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'no-bundled-sdk', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'api-key-rotation.handler', Timeout: 30,
      Code: { ZipFile: zipSync({ 'api-key-rotation.mjs': readFileSync(NODE_FILE) }) },
      Environment: { Variables: { API_BASE_URL: 'http://127.0.0.1:1', NODE_PATH: join(ROOT, 'node_modules') } },
    }));
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'no-bundled-sdk', Payload: Buffer.from(JSON.stringify(payload)) }));
    assert.equal(out.FunctionError, 'Unhandled');
    const err = JSON.parse(Buffer.from(out.Payload!).toString('utf8'));
    assert.equal(err.errorType, 'Runtime.ImportModuleError');
    assert.match(err.errorMessage, /Cannot find package '@aws-sdk\/client-secrets-manager'/);
  });

  test('NODE_PATH is honoured by require() (a CommonJS handler)', async () => {
    const cjs = "const { SecretsManagerClient } = require('@aws-sdk/client-secrets-manager');\n" +
      'exports.handler = async () => ({ client: typeof SecretsManagerClient, endpoint: process.env.AWS_ENDPOINT_URL });\n';
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'node-path-require', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Timeout: 30,
      Code: { ZipFile: zipSync({ 'index.js': Buffer.from(cjs) }) },
      Environment: { Variables: { NODE_PATH: join(ROOT, 'node_modules') } },
    }));
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'node-path-require', Payload: Buffer.from('{}') }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload!).toString('utf8'));
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString('utf8')), { client: 'function', endpoint: server.url });
  });
});
