import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { startServer, type TestServer } from './helpers/server.js';
import { executionRole } from './helpers/iam.js';
import { MAIN, ROOT, childEnv } from './helpers/process.js';
import { awsCliEnv, runCommand, type CommandRun } from './helpers/functions.js';

/*
 * The same API through the real `aws` CLI (v1, botocore), which serialises rest-json its own way
 * (fileb:// blobs, shorthand maps, raw payloads), and the `lockstep functions logs` command of the
 * built CLI (run `npm run build` first).
 */

const HAVE_AWS = spawnSync('aws', ['--version'], { encoding: 'utf8', env: childEnv() }).status === 0;
const ROLE = 'arn:aws:iam::123456789012:role/rotation';

type Run = CommandRun;

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> => runCommand(cmd, args, env, { timeoutMs: 60_000, cwd: ROOT });

let srv: TestServer;
let env: NodeJS.ProcessEnv;

async function aws(...args: string[]): Promise<Run> {
  return run('aws', ['--endpoint-url', srv.endpoint, '--output', 'json', 'lambda', ...args], env);
}

async function awsJson(...args: string[]): Promise<Record<string, any>> {
  const r = await aws(...args);
  assert.equal(r.code, 0, `aws lambda ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

/** `lockstep functions ...` from the built CLI. */
function lockstep(args: string[]): Promise<Run> {
  const registered = existsSync(MAIN) && readFileSync(MAIN, 'utf8').includes('functionsCommand');
  if (registered) return run(process.execPath, [MAIN, 'functions', ...args], childEnv());
  // Until src/cli/main.ts registers the command, run the same command object directly.
  const script = `import('./dist/cli/functions.js').then((m) => m.functionsCommand().parseAsync(process.argv.slice(1), { from: 'user' }))` +
    `.catch((e) => { process.stderr.write('lockstep: ' + e.message + '\\n'); process.exit(1); })`;
  return run(process.execPath, ['--input-type=module', '-e', script, ...args], childEnv());
}

before(async () => {
  srv = await startServer();
  await executionRole(srv.endpoint, srv.credentials, 'rotation');
  env = awsCliEnv(join(srv.dataDir, 'root-credentials'), srv.dataDir);
});
after(() => srv.stop());

describe('aws CLI', () => {
  test('the aws CLI is installed (.ci/run installs it)', () => assert.ok(HAVE_AWS));
  test('create-function with fileb://, get, list, invoke, permissions, updates, delete; then lockstep functions logs', async () => {
    const zipFile = join(srv.dataDir, 'fn.zip');
    const zip = zipSync({ 'app.py': strToU8('import os\ndef handler(event, context):\n    print("cli says", os.environ["GREETING"])\n    return {"got": event, "greeting": os.environ["GREETING"]}\n') });
    writeFileSync(zipFile, zip);
    const created = await awsJson('create-function', '--function-name', 'cli-fn', '--runtime', 'python3.12', '--role', ROLE,
      '--handler', 'app.handler', '--zip-file', `fileb://${zipFile}`, '--timeout', '5', '--memory-size', '256',
      '--environment', 'Variables={GREETING=hello}');
    assert.equal(created.FunctionName, 'cli-fn');
    assert.equal(created.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    assert.equal(created.MemorySize, 256);
    assert.deepEqual(created.Environment, { Variables: { GREETING: 'hello' } });

    const waited = await aws('wait', 'function-active', '--function-name', 'cli-fn');
    assert.equal(waited.code, 0, waited.stderr);
    const got = await awsJson('get-function', '--function-name', 'cli-fn');
    assert.equal(got.Configuration.FunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:cli-fn');
    const listed = await awsJson('list-functions');
    assert.ok(listed.Functions.some((f: { FunctionName: string }) => f.FunctionName === 'cli-fn'));

    const outFile = join(srv.dataDir, 'out.json');
    const inv = await awsJson('invoke', '--function-name', 'cli-fn', '--payload', '{"x": 1}', '--log-type', 'Tail', outFile);
    assert.equal(inv.StatusCode, 200);
    assert.equal(inv.FunctionError, undefined);
    assert.deepEqual(JSON.parse(readFileSync(outFile, 'utf8')), { got: { x: 1 }, greeting: 'hello' });
    assert.match(Buffer.from(inv.LogResult, 'base64').toString('utf8'), /cli says hello/);

    const added = await awsJson('add-permission', '--function-name', 'cli-fn', '--statement-id', 'sm',
      '--action', 'lambda:InvokeFunction', '--principal', 'secretsmanager.amazonaws.com');
    assert.equal(JSON.parse(added.Statement).Principal.Service, 'secretsmanager.amazonaws.com');
    const policy = await awsJson('get-policy', '--function-name', 'cli-fn');
    assert.equal(JSON.parse(policy.Policy).Statement[0].Sid, 'sm');
    const removed = await aws('remove-permission', '--function-name', 'cli-fn', '--statement-id', 'sm');
    assert.equal(removed.code, 0, removed.stderr);

    const zip2 = join(srv.dataDir, 'fn2.zip');
    writeFileSync(zip2, zipSync({ 'app.py': strToU8('def handler(event, context):\n    return "v2"\n') }));
    await awsJson('update-function-code', '--function-name', 'cli-fn', '--zip-file', `fileb://${zip2}`);
    const conf = await awsJson('update-function-configuration', '--function-name', 'cli-fn', '--timeout', '10', '--description', 'second');
    assert.equal(conf.Timeout, 10);
    const inv2 = await awsJson('invoke', '--function-name', 'cli-fn', outFile);
    assert.equal(inv2.StatusCode, 200);
    assert.equal(readFileSync(outFile, 'utf8'), '"v2"');

    const logs = await lockstep(['logs', 'cli-fn', '--data-dir', srv.dataDir]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST\n/);
    assert.match(logs.stdout, /cli says hello\n/);
    assert.equal(logs.stdout.match(/^REPORT RequestId/gm)?.length, 2);
    const last = await lockstep(['logs', 'arn:aws:lambda:us-east-1:123456789012:function:cli-fn', '--data-dir', srv.dataDir, '--lines', '1']);
    assert.match(last.stdout, /^REPORT RequestId: .*\n$/);

    const deleted = await aws('delete-function', '--function-name', 'cli-fn');
    assert.equal(deleted.code, 0, deleted.stderr);
    const missing = await aws('get-function', '--function-name', 'cli-fn');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /An error occurred \(ResourceNotFoundException\) when calling the GetFunction operation: Function not found: arn:aws:lambda:us-east-1:123456789012:function:cli-fn/);
    // the log outlives the function
    assert.equal((await lockstep(['logs', 'cli-fn', '--data-dir', srv.dataDir])).code, 0);
    const none = await lockstep(['logs', 'never-invoked', '--data-dir', srv.dataDir]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no log for function never-invoked/);
  });

  test('the CLI shows clear errors for a zip without the handler and a function that raises', async () => {
    const zipFile = join(srv.dataDir, 'nohandler.zip');
    writeFileSync(zipFile, zipSync({ 'main.py': strToU8('def handler(e, c):\n    raise ValueError("nope")\n') }));
    const bad = await aws('create-function', '--function-name', 'cli-bad', '--runtime', 'python3.12', '--role', ROLE,
      '--handler', 'lambda_function.lambda_handler', '--zip-file', `fileb://${zipFile}`);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /An error occurred \(InvalidParameterValueException\) when calling the CreateFunction operation: The handler 'lambda_function\.lambda_handler' names the module 'lambda_function', but the zip has no lambda_function\.py/);
    await awsJson('create-function', '--function-name', 'cli-raises', '--runtime', 'python3.12', '--role', ROLE,
      '--handler', 'main.handler', '--zip-file', `fileb://${zipFile}`);
    const outFile = join(srv.dataDir, 'raised.json');
    const inv = await awsJson('invoke', '--function-name', 'cli-raises', outFile);
    assert.equal(inv.FunctionError, 'Unhandled');
    const payload = JSON.parse(readFileSync(outFile, 'utf8'));
    assert.deepEqual([payload.errorType, payload.errorMessage], ['ValueError', 'nope']);
  });
});
