import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8 } from 'fflate';
import { CreateFunctionCommand, InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { type TestServer } from './helpers/server.js';
import { useLambdaServer, zipOf } from './helpers/functions.js';
import { rejects } from './helpers/sdk.js';

/*
 * Invocations of process functions through the JS SDK: python and node handlers in every style,
 * errors, output that is not JSON, timeouts, the environment a function gets, and its logs.
 */

const ROLE = 'arn:aws:iam::123456789012:role/rotation';
const HAVE_BOTO3 = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' }).status === 0;
test('boto3 is installed for python3 (.ci/run installs it)', () => assert.ok(HAVE_BOTO3));

let srv: TestServer;
let lambda: LambdaClient;
let seq = 0;

async function create(runtime: string, handler: string, files: Record<string, string>, extra: { Timeout?: number; Environment?: { Variables: Record<string, string> } } = {}) {
  const name = `inv-${++seq}`;
  await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: runtime as 'python3.12', Role: ROLE, Handler: handler, Code: { ZipFile: zipOf(files) }, ...extra }));
  return name;
}

async function invoke(name: string, payload: unknown = {}, more: { LogType?: 'Tail' } = {}) {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: strToU8(JSON.stringify(payload)), ...more }));
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  return { out, text, body: text ? JSON.parse(text) : undefined, log: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8') : '' };
}

/** True while a process runs (a zombie waiting for its reaper does not count). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  } catch {
    return false;
  }
}

function assertOk(r: { out: InvokeCommandOutput; text: string }) {
  assert.equal(r.out.StatusCode, 200);
  assert.equal(r.out.FunctionError, undefined, `function failed: ${r.text}`);
}

useLambdaServer((s) => ({ srv, lambda } = s), { executionRole: 'rotation' });

describe('handlers return payloads', { concurrency: true }, () => {
  test('python: event in, payload out, with the Lambda context', async () => {
    const name = await create('python3.12', 'lambda_function.lambda_handler', {
      'lambda_function.py': [
        'def lambda_handler(event, context):',
        '    return {"echo": event, "name": context.function_name, "id": context.aws_request_id,',
        '            "remaining": context.get_remaining_time_in_millis(), "memory": context.memory_limit_in_mb,',
        '            "arn": context.invoked_function_arn, "group": context.log_group_name, "big": 2**70}',
      ].join('\n'),
    });
    const r = await invoke(name, { a: [1, 'two'], n: 12345678901234567890 });
    assertOk(r);
    assert.deepEqual(r.body.echo, { a: [1, 'two'], n: 12345678901234567890 });
    assert.equal(r.body.name, name);
    assert.equal(r.body.id, r.out.$metadata.requestId);
    assert.ok(r.body.remaining > 0 && r.body.remaining <= 3000, String(r.body.remaining));
    assert.equal(r.body.memory, 128);
    assert.equal(r.body.arn, `arn:aws:lambda:us-east-1:123456789012:function:${name}`);
    assert.equal(r.body.group, `/aws/lambda/${name}`);
    assert.match(r.text, /"big": 1180591620717411303424/); // the payload passes through verbatim
    assert.equal(r.out.ExecutedVersion, '$LATEST');
  });

  test('python: handler returning None gives null; packages import', async () => {
    const name = await create('python3.9', 'pkg.mod.handler', { 'pkg/__init__.py': '', 'pkg/mod.py': 'from pkg import helper\ndef handler(e, c):\n    return helper.value()\n', 'pkg/helper.py': 'def value():\n    return None\n' });
    const r = await invoke(name);
    assertOk(r);
    assert.equal(r.text, 'null');
  });

  test('node: async handler (ESM .mjs)', async () => {
    const name = await create('nodejs20.x', 'index.handler', {
      'index.mjs': 'export const handler = async (event, context) => { await new Promise((r) => setTimeout(r, 10)); return { sum: event.a + event.b, name: context.functionName, id: context.awsRequestId, left: context.getRemainingTimeInMillis() }; };',
    });
    const r = await invoke(name, { a: 2, b: 3 });
    assertOk(r);
    assert.equal(r.body.sum, 5);
    assert.equal(r.body.name, name);
    assert.equal(r.body.id, r.out.$metadata.requestId);
    assert.ok(r.body.left > 0);
  });

  test('node: callback handler (CommonJS .js) waits for the event loop', async () => {
    const name = await create('nodejs18.x', 'app.main', {
      'app.js': "let later = 'no';\nexports.main = function (event, context, callback) {\n  setTimeout(() => { later = 'yes'; console.log('timer ran'); }, 20);\n  callback(null, { got: event.x, style: 'callback' });\n};\n",
    });
    const r = await invoke(name, { x: 'y' }, { LogType: 'Tail' });
    assertOk(r);
    assert.deepEqual(r.body, { got: 'y', style: 'callback' });
    assert.match(r.log, /timer ran/);
  });

  test('node: sync handler in .cjs, module.exports, nested in a directory', async () => {
    const name = await create('nodejs22.x', 'src/lib.handler', { 'src/lib.cjs': 'module.exports = { handler: (event, context, cb) => cb(null, [event.v, context.memoryLimitInMB]) };' });
    const r = await invoke(name, { v: 1 });
    assertOk(r);
    assert.deepEqual(r.body, [1, '128']);
  });
});

describe('failures', { concurrency: true }, () => {
  test('python: an exception is FunctionError Unhandled with errorType, errorMessage and stackTrace', async () => {
    const name = await create('python3.11', 'f.handler', { 'f.py': 'class RotationError(Exception):\n    pass\n\ndef handler(e, c):\n    raise RotationError("cannot connect to db")\n' });
    const r = await invoke(name);
    assert.equal(r.out.StatusCode, 200);
    assert.equal(r.out.FunctionError, 'Unhandled');
    assert.equal(r.body.errorType, 'RotationError');
    assert.equal(r.body.errorMessage, 'cannot connect to db');
    assert.equal(r.body.requestId, r.out.$metadata.requestId);
    assert.ok(Array.isArray(r.body.stackTrace) && r.body.stackTrace.some((l: string) => l.includes('f.py') && l.includes('in handler')), r.text);
  });

  test('node: a rejected promise and a callback error are FunctionError', async () => {
    const name = await create('nodejs20.x', 'index.handler', { 'index.mjs': 'export async function handler() { const e = new TypeError("bad input"); throw e; }' });
    const r = await invoke(name);
    assert.equal(r.out.FunctionError, 'Unhandled');
    assert.equal(r.body.errorType, 'TypeError');
    assert.equal(r.body.errorMessage, 'bad input');
    assert.match(r.body.trace[0], /TypeError: bad input/);
    const cb = await create('nodejs20.x', 'index.handler', { 'index.js': 'exports.handler = (e, c, callback) => callback("plain string");' });
    const r2 = await invoke(cb);
    assert.equal(r2.out.FunctionError, 'Unhandled');
    assert.deepEqual([r2.body.errorType, r2.body.errorMessage], ['string', 'plain string']);
  });

  test('handler function missing, module that does not import, unserialisable result, sys.exit', async () => {
    const missing = await create('python3.12', 'app.nothere', { 'app.py': 'x = 1\n' });
    let r = await invoke(missing);
    assert.deepEqual([r.body.errorType, r.body.errorMessage], ['Runtime.HandlerNotFound', "Handler 'nothere' missing on module 'app'"]);
    const broken = await create('python3.12', 'app.handler', { 'app.py': 'import no_such_module\ndef handler(e, c):\n    pass\n' });
    r = await invoke(broken);
    assert.deepEqual([r.body.errorType, r.body.errorMessage], ['Runtime.ImportModuleError', "Unable to import module 'app': No module named 'no_such_module'"]);
    const syntax = await create('python3.12', 'app.handler', { 'app.py': 'def handler(e, c)\n    pass\n' });
    r = await invoke(syntax);
    assert.equal(r.body.errorType, 'Runtime.UserCodeSyntaxError');
    const set = await create('python3.12', 'app.handler', { 'app.py': 'def handler(e, c):\n    return {1, 2}\n' });
    r = await invoke(set);
    assert.equal(r.body.errorType, 'Runtime.MarshalError');
    assert.match(r.body.errorMessage, /^Unable to marshal response: Object of type set is not JSON serializable/);
    const exit = await create('python3.12', 'app.handler', { 'app.py': 'import sys\ndef handler(e, c):\n    sys.exit(3)\n' });
    r = await invoke(exit);
    assert.equal(r.out.FunctionError, 'Unhandled');
    assert.equal(r.body.errorType, 'Runtime.ExitError');
    assert.equal(r.body.errorMessage, `RequestId: ${r.out.$metadata.requestId} Error: Runtime exited with error: exit status 3`);
    const nodeMissing = await create('nodejs20.x', 'index.nothere', { 'index.mjs': 'export const handler = () => 1;' });
    r = await invoke(nodeMissing);
    assert.deepEqual([r.body.errorType, r.body.errorMessage], ['Runtime.HandlerNotFound', 'index.nothere is undefined or not exported']);
  });

  test('a function that prints garbage to stdout and stderr still returns its payload; the garbage goes to the log', async () => {
    const py = await create('python3.12', 'app.handler', {
      'app.py': [
        'import os, sys',
        'def handler(e, c):',
        '    print("{not json at all")',
        '    sys.stdout.write("\\x00\\x01 half a line")',
        '    os.write(1, b"\\xff\\xfe raw bytes on fd 1\\n")',
        '    os.write(2, b"stderr noise\\n")',
        '    return {"fine": True}',
      ].join('\n'),
    });
    const r = await invoke(py, {}, { LogType: 'Tail' });
    assertOk(r);
    assert.deepEqual(r.body, { fine: true });
    assert.match(r.log, /\{not json at all/);
    assert.match(r.log, /stderr noise/);
    const js = await create('nodejs20.x', 'index.handler', {
      'index.mjs': 'export const handler = async () => { process.stdout.write("}}}garbage"); console.log("%s", "formatted"); process.stderr.write("\\u0000err"); return "done"; };',
    });
    const r2 = await invoke(js, {}, { LogType: 'Tail' });
    assertOk(r2);
    assert.equal(r2.body, 'done');
    assert.match(r2.log, /\}\}\}garbage/);
    assert.match(r2.log, /\tINFO\tformatted/);
  });

  test('a function that hangs is killed at its Timeout, with its whole process group', async () => {
    const name = await create('python3.12', 'app.handler', {
      'app.py': [
        'import os, subprocess, time',
        'def handler(e, c):',
        '    child = subprocess.Popen(["sleep", "60"])',
        '    with open(e["pidfile"], "w") as f:',
        '        f.write("%d %d" % (os.getpid(), child.pid))',
        '    time.sleep(60)',
      ].join('\n'),
    }, { Timeout: 1 });
    const pidfile = join(srv.dataDir, `pids-${name}`);
    const started = Date.now();
    const r = await invoke(name, { pidfile }, { LogType: 'Tail' });
    const took = Date.now() - started;
    assert.equal(r.out.FunctionError, 'Unhandled');
    assert.equal(r.body.errorType, 'Sandbox.Timedout');
    assert.equal(r.body.errorMessage, `RequestId: ${r.out.$metadata.requestId} Error: Task timed out after 1.00 seconds`);
    assert.ok(took >= 1000 && took < 5000, `took ${took} ms`);
    assert.match(r.log, /Task timed out after 1\.00 seconds/);
    const pids = readFileSync(pidfile, 'utf8').split(' ').map(Number);
    // SIGKILL is delivered at once, but on a loaded machine the processes may take a moment to go.
    for (let i = 0; i < 60 && pids.some((pid) => running(pid)); i++) await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids) assert.equal(running(pid), false, `pid ${pid} still runs 3 s after the timeout`);
  });

  test('bad payloads and invocation types', async () => {
    const name = await create('python3.12', 'app.handler', { 'app.py': 'def handler(e, c):\n    return e\n' });
    await rejects(lambda.send(new InvokeCommand({ FunctionName: name, Payload: strToU8('{oops') })), 'InvalidRequestContentException',
      /^Could not parse request body into json: Could not parse payload into json: /, 400);
    await rejects(lambda.send(new InvokeCommand({ FunctionName: 'nope' })), 'ResourceNotFoundException',
      'Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope', 404);
    const dry = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'DryRun' }));
    assert.equal(dry.StatusCode, 204);
    const ev = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: strToU8('{}') }));
    assert.equal(ev.StatusCode, 202);
    const empty = await lambda.send(new InvokeCommand({ FunctionName: name }));
    assert.equal(Buffer.from(empty.Payload!).toString(), '{}');
  });
});

describe('environment', () => {
  test('a function sees Lambda variables, its own (stored sealed), and nothing of the server', async () => {
    process.env.LOCKSTEP_SERVER_ONLY_MARKER = 'server-secret-value';
    try {
      const value = 'hunter2-environment-value-7f3a';
      const name = await create('python3.12', 'app.handler', {
        'app.py': 'import os, sys\ndef handler(e, c):\n    return {"env": dict(os.environ), "path": sys.path}\n',
      }, { Environment: { Variables: { DB_PASSWORD: value, AWS_ENDPOINT_URL_STS: 'http://sts.example' } }, Timeout: 7 });
      const r = await invoke(name);
      assertOk(r);
      const env = r.body.env as Record<string, string>;
      assert.equal(env.DB_PASSWORD, value);
      assert.equal(env.AWS_ENDPOINT_URL, srv.endpoint);
      assert.equal(env.AWS_REGION, 'us-east-1');
      assert.equal(env.AWS_DEFAULT_REGION, 'us-east-1');
      // Keys of the execution role, issued for this invocation; never the server's root key.
      assert.match(env.AWS_ACCESS_KEY_ID, /^LSIA[A-Z0-9]{16}$/);
      assert.notEqual(env.AWS_ACCESS_KEY_ID, srv.credentials.accessKeyId);
      assert.notEqual(env.AWS_SECRET_ACCESS_KEY, srv.credentials.secretAccessKey);
      assert.ok(env.AWS_SESSION_TOKEN.length > 20);
      assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, name);
      assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '128');
      assert.equal(env.AWS_LAMBDA_FUNCTION_TIMEOUT, '7');
      assert.equal(env.LAMBDA_TASK_ROOT, join(srv.dataDir, 'functions', name, env.LAMBDA_TASK_ROOT.split('/').pop()!));
      assert.ok(env.PYTHONPATH.split(':').includes(env.LAMBDA_TASK_ROOT));
      assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('LOCKSTEP_')), []);
      assert.ok(!JSON.stringify(env).includes('server-secret-value'));
      // code is extracted 0700
      assert.equal(statSync(env.LAMBDA_TASK_ROOT).mode & 0o777, 0o700);
      // the variable's value is in the store only sealed
      const files = readdirSync(srv.dataDir).filter((f) => /\.(db|sqlite)(-wal)?$|lockstep/.test(f)).map((f) => join(srv.dataDir, f));
      assert.ok(files.length > 0, `no database files in ${readdirSync(srv.dataDir).join(', ')}`);
      for (const f of files) {
        if (statSync(f).isFile()) assert.ok(!readFileSync(f).includes(value), `${f} holds the plaintext value`);
      }
    } finally {
      delete process.env.LOCKSTEP_SERVER_ONLY_MARKER;
    }
  });

  test('boto3 inside a function reaches Lockstep with no endpoint configuration', async () => {
    const sm = srv.client();
    const created = await sm.send(new CreateSecretCommand({ Name: 'lambda/boto3-check', SecretString: 'from-lockstep' }));
    const name = await create('python3.12', 'app.handler', {
      'app.py': 'import boto3\ndef handler(event, context):\n    client = boto3.client("secretsmanager")\n    v = client.get_secret_value(SecretId=event["id"])\n    return {"value": v["SecretString"], "arn": v["ARN"]}\n',
    }, { Timeout: 30 });
    const r = await invoke(name, { id: 'lambda/boto3-check' });
    assertOk(r);
    assert.deepEqual(r.body, { value: 'from-lockstep', arn: created.ARN });
  });

  test('logs: Invoke LogType=Tail, and the log file under the data directory (0600)', async () => {
    const name = await create('python3.12', 'app.handler', { 'app.py': 'def handler(e, c):\n    print("hello from", c.function_name)\n    return 1\n' });
    const r = await invoke(name, {}, { LogType: 'Tail' });
    const id = r.out.$metadata.requestId!;
    assert.match(r.log, new RegExp(`^START RequestId: ${id} Version: \\$LATEST\\n`));
    assert.match(r.log, new RegExp(`hello from ${name}\\n`));
    assert.match(r.log, new RegExp(`END RequestId: ${id}\\nREPORT RequestId: ${id}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB`));
    const file = join(srv.dataDir, 'functions', name, 'log');
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(readFileSync(file, 'utf8').includes(r.log));
    // the tail is at most 4 KB
    const loud = await create('python3.12', 'app.handler', { 'app.py': 'def handler(e, c):\n    print("x" * 20000)\n    return 1\n' });
    const big = await invoke(loud, {}, { LogType: 'Tail' });
    assert.ok(Buffer.byteLength(big.log) <= 4096);
    assert.match(big.log, /REPORT RequestId/);
  });
});
