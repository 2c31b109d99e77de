import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, type GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { startLockstep, type Lockstep } from '../src/server/app.js';
import { MAIN, ROOT, childEnv, runCli } from './helpers/process.js';
import { freePort } from './helpers/pg-cluster.js';

// `lockstep agent` as a child process (dist/cli/main.js; `npm run build` first) in front of a real
// Lockstep server. The server runs in this process behind a small HTTP proxy that counts the
// agent's requests by operation, so the tests can tell a cache hit (nothing reaches the server)
// from a fetch, and can stop and restart the server underneath a running agent.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TOKEN = `tok-${randomBytes(18).toString('hex')}`;
const TOKEN_HEADER = 'X-Aws-Parameters-Secrets-Token';
/** Every secret value created here: none may ever appear in an agent's output. */
const canaries: string[] = [];
const canary = (label: string) => {
  const v = `canary-${label}-${randomBytes(12).toString('hex')}`;
  canaries.push(v);
  return v;
};
let n = 0;
const unique = (p: string) => `agent-test/${p}-${process.pid}-${++n}`;

let tmp: string;
let dataDir: string;
let serverPort: number;
let app: Lockstep | undefined;
let sm: SecretsManagerClient;
let proxy: CountingProxy;
let main: AgentProc;

// ------------------------------------------------------------------------------------------ helpers

/** An HTTP proxy to the server that counts requests by operation (X-Amz-Target, else method and path). */
interface CountingProxy {
  url: string;
  counts: Record<string, number>;
  count(op: string): number;
  close(): Promise<void>;
}

async function startProxy(targetPort: () => number): Promise<CountingProxy> {
  const counts: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const target = req.headers['x-amz-target'];
    const op = typeof target === 'string' ? target.replace(/^secretsmanager\./, '') : `${req.method} ${(req.url ?? '').split('?')[0]}`;
    counts[op] = (counts[op] ?? 0) + 1;
    const up = request(
      { host: '127.0.0.1', port: targetPort(), method: req.method, path: req.url, headers: req.headers, agent: false },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    // The server is down: the client sees its connection reset, as it would without the proxy.
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy()); // the client went away (an event stream): so does the upstream request
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    count: (op) => counts[op] ?? 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** One `lockstep agent` child process. */
interface AgentProc {
  child: ChildProcess;
  url: string;
  listenLine: Record<string, unknown>;
  stdout(): string;
  stderr(): string;
  running(): boolean;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const agents: AgentProc[] = [];

function agentEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'root-credentials'),
    AWS_CONFIG_FILE: join(tmp, 'no-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

/** Starts an agent against the proxy (`--port 0` unless `portFlag` is false) and waits for its listen line. */
async function startAgentProc(opts: { args?: string[]; env?: Record<string, string | undefined>; portFlag?: boolean } = {}): Promise<AgentProc> {
  const args = [MAIN, 'agent', ...(opts.portFlag === false ? [] : ['--port', '0']), '--endpoint', proxy.url, '--region', 'us-east-1', ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv(agentEnv(opts.env ?? { AWS_TOKEN: TOKEN })), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  const proc: AgentProc = {
    child,
    url: '',
    listenLine: {},
    stdout: () => out,
    stderr: () => err,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop(signal = 'SIGTERM') {
      if (proc.running()) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(t);
      }
    },
  };
  agents.push(proc);
  const until = Date.now() + 15_000;
  for (;;) {
    const line = err.split('\n').find((l) => l.startsWith('{') && l.includes('"url"'));
    if (line) {
      proc.listenLine = JSON.parse(line) as Record<string, unknown>;
      proc.url = proc.listenLine.url as string;
      return proc;
    }
    if (!proc.running() || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`agent did not start\nstdout:\n${out}\nstderr:\n${err}`);
    }
    await sleep(20);
  }
}

/** A GET (or another method) to an agent; the body as text. */
async function get(a: AgentProc | string, path: string, headers: Record<string, string> = { [TOKEN_HEADER]: TOKEN }, method = 'GET') {
  const res = await fetch(new URL(path, typeof a === 'string' ? a : a.url), { method, headers });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const secretPath = (id: string, extra = '') => `/secretsmanager/get?secretId=${encodeURIComponent(id)}${extra}`;

/** What the agent should answer for a GetSecretValue output: AWS's agent's fields and order. */
function expectedBody(g: GetSecretValueCommandOutput): Record<string, unknown> {
  const o: Record<string, unknown> = { ARN: g.ARN, Name: g.Name, VersionId: g.VersionId };
  if (g.SecretString !== undefined) o.SecretString = g.SecretString;
  if (g.SecretBinary !== undefined) o.SecretBinary = Buffer.from(g.SecretBinary).toString('base64');
  o.VersionStages = g.VersionStages;
  o.CreatedDate = String(g.CreatedDate!.getTime() / 1000);
  return o;
}

/** Runs a program to completion without blocking this process's event loop. */
function runAsync(cmd: string, args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', (e) => resolve({ status: null, stdout, stderr: stderr + String(e) }));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Lets the events of changes just made reach the agent. */
const settle = () => sleep(300);

async function waitFor(f: () => boolean | Promise<boolean>, ms = 5_000, what = f.toString().slice(0, 120)): Promise<void> {
  const until = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

const startServer = () => startLockstep({ port: serverPort, host: '127.0.0.1', dataDir, region: 'us-east-1', accountId: '123456789012', env: {} });

// ------------------------------------------------------------------------------------------- set-up

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lockstep-agent-'));
  dataDir = join(tmp, 'data');
  serverPort = await freePort();
  app = await startServer();
  sm = new SecretsManagerClient({ endpoint: app.url, region: 'us-east-1', credentials: { ...app.credentials.root }, maxAttempts: 1 });
  proxy = await startProxy(() => serverPort);
  main = await startAgentProc({ args: ['--ttl-seconds', '3600'] });
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  sm?.destroy();
  await proxy?.close();
  await app?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// -------------------------------------------------------------------------------------------- tests

describe('start-up', () => {
  test('one JSON line on stderr: where it listens, the server, and where the token came from (never the token)', () => {
    const lines = main.stderr().split('\n').filter(Boolean);
    assert.equal(lines.length, 1, main.stderr());
    const l = main.listenLine;
    assert.match(l.url as string, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(l.endpoint, proxy.url);
    assert.equal(l.region, 'us-east-1');
    assert.equal(l.ttlSeconds, 3600);
    assert.equal(l.cacheSize, 1000);
    assert.equal(l.maxConnections, 800);
    assert.equal(l.tokenSource, 'AWS_TOKEN');
    assert.match(l.msg as string, /^lockstep agent listening on http:\/\/127\.0\.0\.1:\d+ for http:/);
    assert.equal(main.stdout(), '');
  });

  test('refuses to start without a token, with a clear message; also for a token file that cannot be read', () => {
    const base = { ...agentEnv({}), LOCKSTEP_ENDPOINT: proxy.url };
    const none = runCli(['agent', '--port', '0'], { env: base });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^lockstep: refusing to start: no SSRF token: none of AWS_TOKEN, AWS_SESSION_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN is set/);
    assert.match(none.stderr, /file:\/\/<path>/);
    const empty = runCli(['agent', '--port', '0'], { env: { ...base, AWS_TOKEN: '' } });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no SSRF token/);
    const missing = join(tmp, 'no-such-token-file');
    const noFile = runCli(['agent', '--port', '0'], { env: { ...base, AWS_TOKEN: `file://${missing}` } });
    assert.equal(noFile.code, 1);
    assert.match(noFile.stderr, new RegExp(`refusing to start: could not read the SSRF token file ${missing} \\(named by AWS_TOKEN\\): ENOENT`));
    const emptyFile = join(tmp, 'empty-token');
    writeFileSync(emptyFile, '\n');
    const blank = runCli(['agent', '--port', '0'], { env: { ...base, AWS_TOKEN: `file://${emptyFile}` } });
    assert.equal(blank.code, 1);
    assert.match(blank.stderr, /SSRF token file .* is empty/);
  });

  test('other start-up errors: no endpoint, a bad configuration file (AWS\'s messages), a bad flag', () => {
    const env = agentEnv({ AWS_TOKEN: TOKEN });
    const noEndpoint = runCli(['agent', '--port', '0'], { env });
    assert.equal(noEndpoint.code, 1);
    assert.match(noEndpoint.stderr, /no Lockstep endpoint: pass --endpoint <url> or set LOCKSTEP_ENDPOINT \(or AWS_ENDPOINT_URL\)/);
    const cfg = join(tmp, 'bad.toml');
    writeFileSync(cfg, 'ttl_seconds = 3601\n');
    const badTtl = runCli(['agent', '--endpoint', proxy.url, '--config', cfg], { env });
    assert.equal(badTtl.code, 1);
    assert.match(badTtl.stderr, /The TTL in seconds specified in the configuration file isn't valid\. The TTL in seconds must be in the range 0 to 3600\./);
    writeFileSync(cfg, 'http_port = 2773\nnot_a_key = 1\n');
    assert.match(runCli(['agent', '--endpoint', proxy.url, '--config', cfg], { env }).stderr, /unknown field `not_a_key`/);
    writeFileSync(cfg, '[server]\nhttp_port = 2773\n');
    assert.match(runCli(['agent', '--endpoint', proxy.url, '--config', cfg], { env }).stderr, /TOML parse error at line 1: tables are not supported/);
    assert.match(runCli(['agent', '--endpoint', proxy.url, '--config', join(tmp, 'nope.toml')], { env }).stderr, /configuration file ".*nope\.toml" not found/);
    assert.match(runCli(['agent', '--endpoint', proxy.url, '--port', '80'], { env }).stderr, /--port must be 0 \(any free port\) or a whole number from 1024 to 65535/);
    assert.match(runCli(['agent', '--endpoint', proxy.url, '--cache-size', '1001'], { env }).stderr, /--cache-size must be a whole number from 1 to 1000/);
    // The port of a running agent is taken: a clear error.
    const taken = runCli(['agent', '--endpoint', proxy.url, '--port', new URL(main.url).port], { env });
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /could not listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });
});

describe('reading secrets', () => {
  test("a secret read through the agent is GetSecretValue's answer, field for field, in AWS's agent's shape", async () => {
    const id = unique('basic');
    const value = canary('basic');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: value }));
    const gsv = await sm.send(new GetSecretValueCommand({ SecretId: id }));
    const r = await get(main, secretPath(id));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), null, 'AWS sends no content type');
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['ARN', 'Name', 'VersionId', 'SecretString', 'VersionStages', 'CreatedDate']);
    assert.deepEqual(body, expectedBody(gsv));
    assert.equal(body.SecretString, value);
    assert.equal(typeof body.CreatedDate, 'string');
    assert.equal(Math.round(Number(body.CreatedDate) * 1000), gsv.CreatedDate!.getTime());
    // By ARN, and in the path form (a name with slashes), with the other header.
    assert.deepEqual(JSON.parse((await get(main, secretPath(gsv.ARN!))).body), expectedBody(gsv));
    const byPath = await get(main, `/v1/${id}`, { 'X-Vault-Token': TOKEN });
    assert.equal(byPath.status, 200);
    assert.deepEqual(JSON.parse(byPath.body), expectedBody(gsv));

    const bin = unique('binary');
    await sm.send(new CreateSecretCommand({ Name: bin, SecretBinary: Uint8Array.from([0, 1, 2, 250, 255]) }));
    const binGsv = await sm.send(new GetSecretValueCommand({ SecretId: bin }));
    const b = JSON.parse((await get(main, secretPath(bin))).body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(b), ['ARN', 'Name', 'VersionId', 'SecretBinary', 'VersionStages', 'CreatedDate']);
    assert.deepEqual(b, expectedBody(binGsv));
    assert.equal(b.SecretBinary, 'AAEC+v8=');
  });

  test('versionStage and versionId, in both forms', async () => {
    const id = unique('versions');
    const v1 = canary('v1');
    const v2 = canary('v2');
    const c1 = await sm.send(new CreateSecretCommand({ Name: id, SecretString: v1 }));
    await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: v2 }));
    const prev = await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPREVIOUS' }));
    const byId = await sm.send(new GetSecretValueCommand({ SecretId: id, VersionId: c1.VersionId }));
    const cur = await sm.send(new GetSecretValueCommand({ SecretId: id }));
    assert.deepEqual(JSON.parse((await get(main, secretPath(id))).body), expectedBody(cur));
    assert.deepEqual(JSON.parse((await get(main, secretPath(id, '&versionStage=AWSPREVIOUS'))).body), expectedBody(prev));
    assert.deepEqual(JSON.parse((await get(main, secretPath(id, `&versionId=${c1.VersionId}`))).body), expectedBody(byId));
    assert.deepEqual(JSON.parse((await get(main, secretPath(id, `&versionId=${c1.VersionId}&versionStage=AWSPREVIOUS`))).body), expectedBody(prev));
    assert.deepEqual(JSON.parse((await get(main, `/v1/${id}?versionStage=AWSPREVIOUS`)).body), expectedBody(prev));
    assert.deepEqual(JSON.parse((await get(main, `/v1/${id}?versionId=${c1.VersionId}`)).body), expectedBody(byId));
    assert.equal(JSON.parse((await get(main, secretPath(id, '&versionStage=AWSCURRENT'))).body).SecretString, v2);
    // A stage or version that does not exist: the server's error, in the agent's shape.
    const noStage = await get(main, secretPath(id, '&versionStage=NOPE'));
    assert.equal(noStage.status, 400);
    assert.equal(noStage.body, '{"__type":"ResourceNotFoundException", "message":"Secrets Manager can\'t find the specified secret value for staging label: NOPE"}');
  });

  test("an unknown secret: the server's error code, message and status, in AWS's agent's layout", async () => {
    const id = unique('missing');
    const sdkErr = await sm.send(new GetSecretValueCommand({ SecretId: id })).then(() => undefined, (e: { name: string; message: string }) => e);
    assert.equal(sdkErr?.name, 'ResourceNotFoundException');
    const r = await get(main, secretPath(id));
    assert.equal(r.status, 400);
    assert.equal(r.body, `{"__type":"ResourceNotFoundException", "message":"${sdkErr!.message}"}`);
    assert.equal(r.body, '{"__type":"ResourceNotFoundException", "message":"Secrets Manager can\'t find the specified secret."}');
    assert.equal((await get(main, `/v1/${id}`)).body, r.body);
  });

  test("malformed requests: AWS's statuses and plain-text bodies", async () => {
    const cases: [string, number, string][] = [
      ['/secretsmanager/get', 400, 'missing parameter secretId'],
      ['/secretsmanager/get?versionStage=AWSPENDING', 400, 'missing parameter secretId'],
      ['/secretsmanager/get?secretId=x&abc=1', 400, 'unknown parameter: abc'],
      ['/secretsmanager/get?secretId=x&refreshNow=maybe', 400, 'invalid refreshNow value'],
      ['/v1/', 400, 'missing secret ID'],
      ['/v1/x?secretId=y', 400, 'unknown parameter: secretId'],
      ['/pong', 404, 'Not found'],
      ['/', 404, 'Not found'],
      ['/secretsmanager/get/', 404, 'Not found'],
    ];
    for (const [path, status, body] of cases) assert.deepEqual({ ...(await get(main, path)), headers: undefined }, { status, body, headers: undefined }, path);
  });
});

describe('the SSRF token', () => {
  test('required on every secret request; /ping needs none; checked before the method and the path', async () => {
    const id = unique('ssrf');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: canary('ssrf') }));
    const expect = async (path: string, headers: Record<string, string>, status: number, body?: string, method = 'GET') => {
      const r = await get(main, path, headers, method);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(headers)}: ${r.body}`);
      if (body !== undefined) assert.equal(r.body, body);
    };
    await expect(secretPath(id), {}, 403, 'Bad Token');
    await expect(`/v1/${id}`, {}, 403, 'Bad Token');
    await expect(secretPath(id), { [TOKEN_HEADER]: 'wrong' }, 403, 'Bad Token');
    await expect(secretPath(id), { [TOKEN_HEADER]: TOKEN.slice(0, -1) }, 403, 'Bad Token');
    await expect(secretPath(id), { [TOKEN_HEADER]: TOKEN.toUpperCase() }, 403, 'Bad Token');
    await expect(secretPath(id), { 'X-Other-Token': TOKEN }, 403, 'Bad Token');
    await expect(secretPath(id), { [TOKEN_HEADER.toLowerCase()]: TOKEN }, 200);
    await expect(secretPath(id), { 'X-Vault-Token': TOKEN }, 200);
    await expect(secretPath(id), { [TOKEN_HEADER]: 'wrong', 'X-Vault-Token': TOKEN }, 200);
    await expect(secretPath(id), { [TOKEN_HEADER]: TOKEN, 'X-Forwarded-For': '203.0.113.9' }, 400, 'Forwarded');
    await expect('/ping', {}, 200, 'healthy');
    await expect('/ping?x=1', {}, 200, 'healthy');
    await expect('/nowhere', {}, 403, 'Bad Token');
    await expect('/nowhere', { [TOKEN_HEADER]: TOKEN }, 404, 'Not found');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      await expect(secretPath(id), { [TOKEN_HEADER]: TOKEN }, 405, 'Not allowed', method);
      await expect(secretPath(id), {}, 403, 'Bad Token', method);
    }
    await expect(secretPath(id), { [TOKEN_HEADER]: TOKEN }, 405, '', 'HEAD');
    await expect('/ping', {}, 405, 'Not allowed', 'POST');
  });

  test('the token from AWS_SESSION_TOKEN, AWS_TOKEN first when both are set, and from file://<path>', async () => {
    const id = unique('sources');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: canary('sources') }));
    const session = `session-${randomBytes(12).toString('hex')}`;
    const fromFile = `file-${randomBytes(12).toString('hex')}`;
    const tokenFile = join(tmp, 'awssmatoken');
    writeFileSync(tokenFile, `${fromFile}\n`, { mode: 0o600 });
    const [bySession, both, byFile, byFileSession] = await Promise.all([
      startAgentProc({ env: { AWS_SESSION_TOKEN: session } }),
      startAgentProc({ env: { AWS_TOKEN: TOKEN, AWS_SESSION_TOKEN: session } }),
      startAgentProc({ env: { AWS_TOKEN: `file://${tokenFile}` } }),
      startAgentProc({ env: { AWS_SESSION_TOKEN: `file://${tokenFile}` } }),
    ]);
    try {
      assert.equal(bySession.listenLine.tokenSource, 'AWS_SESSION_TOKEN');
      assert.equal((await get(bySession, secretPath(id), { [TOKEN_HEADER]: session })).status, 200);
      assert.equal((await get(bySession, secretPath(id), { [TOKEN_HEADER]: TOKEN })).status, 403);

      assert.equal(both.listenLine.tokenSource, 'AWS_TOKEN');
      assert.equal((await get(both, secretPath(id), { [TOKEN_HEADER]: TOKEN })).status, 200);
      assert.equal((await get(both, secretPath(id), { [TOKEN_HEADER]: session })).status, 403);

      assert.equal(byFile.listenLine.tokenSource, `AWS_TOKEN (file ${tokenFile})`);
      assert.equal((await get(byFile, secretPath(id), { [TOKEN_HEADER]: fromFile })).status, 200, 'the file contents, trimmed');
      assert.equal((await get(byFile, secretPath(id), { [TOKEN_HEADER]: `file://${tokenFile}` })).status, 403);
      assert.equal((await get(byFileSession, secretPath(id), { 'X-Vault-Token': fromFile })).status, 200);
      for (const a of [bySession, both, byFile, byFileSession]) {
        for (const t of [session, fromFile, TOKEN]) assert.ok(!(a.stderr() + a.stdout()).includes(t), 'a token in the output');
      }
    } finally {
      await Promise.all([bySession, both, byFile, byFileSession].map((a) => a.stop()));
    }
  });
});

describe('the cache', () => {
  // Secrets whose fetches are counted are created up front: a push for a secret the agent holds makes
  // it fetch again, so their creation events must be long past when they are first read.
  const counted = { hits: unique('hits'), cold: unique('cold'), refresh: unique('refresh'), refreshCold: unique('refresh-cold') };
  const refreshValue = canary('refresh');
  before(async () => {
    await sm.send(new CreateSecretCommand({ Name: counted.hits, SecretString: canary('hits') }));
    await sm.send(new CreateSecretCommand({ Name: counted.cold, SecretString: canary('cold') }));
    await sm.send(new CreateSecretCommand({ Name: counted.refresh, SecretString: refreshValue }));
    await sm.send(new CreateSecretCommand({ Name: counted.refreshCold, SecretString: canary('refresh-cold') }));
    await settle();
  });

  test('a second read does not reach the server; a thousand concurrent cold reads make one fetch', async () => {
    const id = counted.hits;
    const before = { gsv: proxy.count('GetSecretValue'), describe: proxy.count('DescribeSecret') };
    const first = await get(main, secretPath(id));
    assert.equal(first.status, 200);
    assert.equal(proxy.count('GetSecretValue'), before.gsv + 1);
    for (let i = 0; i < 100; i++) assert.equal((await get(main, secretPath(id))).body, first.body);
    assert.equal((await get(main, `/v1/${id}`)).body, first.body);
    assert.equal(proxy.count('GetSecretValue'), before.gsv + 1, 'warm reads reach the server');

    const cold = counted.cold;
    const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 50 });
    try {
      const bodies = await Promise.all(
        Array.from({ length: 1000 }, () =>
          new Promise<string>((resolve, reject) => {
            const req = request(new URL(secretPath(cold), main.url), { agent: keepAlive, headers: { [TOKEN_HEADER]: TOKEN } }, (res) => {
              let b = '';
              res.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => resolve(b));
            });
            req.on('error', reject);
            req.end();
          })),
      );
      assert.equal(new Set(bodies).size, 1);
      assert.equal(JSON.parse(bodies[0]).Name, cold);
    } finally {
      keepAlive.destroy();
    }
    assert.equal(proxy.count('GetSecretValue'), before.gsv + 2, 'one fetch for the cold secret');
    assert.equal(proxy.count('DescribeSecret'), before.describe, 'no version checks within the TTL');
  });

  test('push: with a TTL of an hour, a new value is served within a second of PutSecretValue', async (t) => {
    const id = unique('push');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: canary('push-1') }));
    assert.equal((await get(main, secretPath(id))).status, 200);
    await waitFor(() => proxy.count('GET /lockstep/events') > 0, 5_000, 'the agent subscribed to the event stream');
    const describes = proxy.count('DescribeSecret');
    const seen: number[] = [];
    for (let round = 2; round <= 4; round++) {
      const next = canary(`push-${round}`);
      const t0 = Date.now();
      await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: next }));
      await waitFor(async () => JSON.parse((await get(main, secretPath(id))).body).SecretString === next, 1_000, `round ${round} within a second`);
      const ms = Date.now() - t0;
      assert.ok(ms < 1_000, `seen after ${ms} ms`);
      seen.push(ms);
    }
    t.diagnostic(`new value served after ${seen.join(', ')} ms (PutSecretValue call included)`);
    assert.equal(proxy.count('DescribeSecret'), describes, 'push needs no version checks');
    // Another stage is followed the same way: AWSPREVIOUS moves with each new value.
    const third = canaries.at(-2)!;
    const fourth = canaries.at(-1)!;
    assert.equal(JSON.parse((await get(main, secretPath(id, '&versionStage=AWSPREVIOUS'))).body).SecretString, third);
    await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: canary('push-5') }));
    await waitFor(async () => JSON.parse((await get(main, secretPath(id, '&versionStage=AWSPREVIOUS'))).body).SecretString === fourth, 1_000, 'AWSPREVIOUS followed');
  });

  test('refreshNow=true fetches from the server every time; without it the cache answers', async () => {
    const id = counted.refresh;
    const v1 = refreshValue;
    await get(main, secretPath(id));
    const n0 = proxy.count('GetSecretValue');
    for (const v of ['true', 'TRUE', '1']) {
      const r = await get(main, secretPath(id, `&refreshNow=${v}`));
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).SecretString, v1);
    }
    assert.equal(proxy.count('GetSecretValue'), n0 + 3);
    await get(main, secretPath(id, '&refreshNow=false'));
    await get(main, `/v1/${id}?refreshNow=0`);
    assert.equal(proxy.count('GetSecretValue'), n0 + 3);
    await get(main, `/v1/${id}?refreshNow=true`);
    assert.equal(proxy.count('GetSecretValue'), n0 + 4);
    // refreshNow of a secret not cached yet: one fetch, then cached.
    const other = counted.refreshCold;
    assert.equal((await get(main, secretPath(other, '&refreshNow=true'))).status, 200);
    await get(main, secretPath(other));
    assert.equal(proxy.count('GetSecretValue'), n0 + 5);
  });

  test('the agent keeps serving while the server is down, and follows the next change when it is back', async (t) => {
    const id = unique('outage');
    const before = canary('outage-before');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: before }));
    const cached = await get(main, secretPath(id));
    assert.equal(JSON.parse(cached.body).SecretString, before);
    await app!.close();
    app = undefined;
    try {
      const until = Date.now() + 4_000;
      let served = 0;
      while (Date.now() < until) {
        const r = await get(main, secretPath(id));
        assert.equal(r.status, 200);
        assert.equal(r.body, cached.body);
        served++;
        await sleep(25);
      }
      assert.ok(served > 50, `served ${served}`);
      t.diagnostic(`server down: ${served} reads in 4 s, all served from the cache`);
      // What was never cached cannot be served: AWS's connection error.
      const cold = await get(main, secretPath(unique('never-cached')));
      assert.deepEqual([cold.status, cold.body], [502, '{"__type":"ConnectionError", "message":"Read Error"}']);
      // refreshNow cannot reach the server: an error, and the cache is not changed.
      const forced = await get(main, secretPath(id, '&refreshNow=true'));
      assert.equal(forced.status, 502);
      assert.equal((await get(main, secretPath(id))).body, cached.body);
      assert.match(main.stderr(), /background refresh failed; serving the cached value|event stream/);
    } finally {
      app = await startServer();
      sm.destroy();
      sm = new SecretsManagerClient({ endpoint: app.url, region: 'us-east-1', credentials: { ...app.credentials.root }, maxAttempts: 1 });
    }
    const after = canary('outage-after');
    await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: after }));
    const t0 = Date.now();
    await waitFor(async () => JSON.parse((await get(main, secretPath(id))).body).SecretString === after, 20_000, 'the new value after the outage');
    t.diagnostic(`after the outage, the new value was served ${Date.now() - t0} ms after PutSecretValue`);
  });

  test('TTL 0 and the configuration file: headers, variables, prefix, connection limit, as AWS reads them', async () => {
    const id = unique('config');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: canary('config') }));
    const cfg = join(tmp, 'agent.toml');
    writeFileSync(cfg, [
      '# an AWS Secrets Manager Agent configuration file',
      'http_port = "0"',
      'ttl_seconds = 0',
      "cache_size = '10'",
      'max_conn = 1',
      'ssrf_headers = ["X-My-Token"]',
      'ssrf_env_variables = ["MY_TOKEN", "AWS_TOKEN"]',
      'path_prefix = "/secrets/"',
      'log_level = "INFO"',
      'region = "us-east-1"',
      '',
    ].join('\n'));
    const mine = `mine-${randomBytes(8).toString('hex')}`;
    const a = await startAgentProc({ portFlag: false, args: ['--config', cfg], env: { MY_TOKEN: mine, AWS_TOKEN: TOKEN } });
    // max_conn = 1 counts open connections: every request here goes over one of two keep-alive connections.
    const conn1 = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const conn2 = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const raw = (agent: HttpAgent, path: string, headers: Record<string, string> = { 'X-My-Token': mine }) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(new URL(path, a.url), { agent, headers }, (res) => {
          let b = '';
          res.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => resolve({ status: res.statusCode!, body: b }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      assert.equal(a.listenLine.tokenSource, 'MY_TOKEN');
      assert.equal(a.listenLine.ttlSeconds, 0);
      assert.equal(a.listenLine.cacheSize, 10);
      assert.equal(a.listenLine.maxConnections, 1);
      assert.equal((await raw(conn1, secretPath(id))).status, 200);
      assert.equal((await raw(conn1, secretPath(id), { [TOKEN_HEADER]: mine })).status, 403, 'only the configured header');
      assert.equal((await raw(conn1, secretPath(id), { 'X-My-Token': TOKEN })).status, 403, 'the first variable set is the token');
      assert.equal((await raw(conn1, `/secrets/${id}`)).status, 200);
      assert.equal((await raw(conn1, `/v1/${id}`)).status, 404);
      // TTL 0: every request reads from the server.
      const n0 = proxy.count('GetSecretValue');
      for (let i = 0; i < 3; i++) assert.equal((await raw(conn1, secretPath(id))).status, 200);
      assert.equal(proxy.count('GetSecretValue'), n0 + 3);
      // A second open connection is refused with 429; /ping may use two more.
      assert.deepEqual(await raw(conn2, secretPath(id)), { status: 429, body: 'Connection limit exceeded' });
      assert.deepEqual(await raw(conn2, '/ping', {}), { status: 200, body: 'healthy' });
      assert.equal((await raw(conn1, secretPath(id))).status, 429, 'two connections are open now');
      conn2.destroy();
      await waitFor(async () => (await raw(conn1, secretPath(id))).status === 200, 2_000, 'the limit frees up when a connection closes');
    } finally {
      conn1.destroy();
      conn2.destroy();
      await a.stop();
    }
    // A flag given beats the file.
    const b = await startAgentProc({ args: ['--config', cfg, '--ttl-seconds', '60', '--max-connections', '5'], env: { MY_TOKEN: mine } });
    try {
      assert.equal(b.listenLine.ttlSeconds, 60);
      assert.equal(b.listenLine.maxConnections, 5);
      assert.equal(b.listenLine.cacheSize, 10);
    } finally {
      await b.stop();
    }
  });
});

describe('other languages and the process', () => {
  test("python's requests reads a secret through the agent, with the token from a file", async (t) => {
    if (spawnSync('python3', ['-c', 'import requests'], { stdio: 'ignore' }).status !== 0) {
      t.skip('python3 with requests is not installed');
      return;
    }
    const id = unique('python');
    const value = canary('python');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: JSON.stringify({ username: 'app', password: value }) }));
    const tokenFile = join(tmp, 'python-token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const script = [
      'import json, sys, requests',
      'url, token_file, secret_id = sys.argv[1:4]',
      'with open(token_file) as f:',
      '    token = f.read().strip()',
      'r = requests.get(url + "/secretsmanager/get", params={"secretId": secret_id}, headers={"X-Aws-Parameters-Secrets-Token": token})',
      'r.raise_for_status()',
      'secret = json.loads(r.json()["SecretString"])',
      'denied = requests.get(url + "/secretsmanager/get", params={"secretId": secret_id})',
      'print(json.dumps({"status": r.status_code, "body": r.json(), "username": secret["username"], "denied": [denied.status_code, denied.text]}))',
    ].join('\n');
    // Asynchronously: the server answering the agent's fetch runs in this process.
    const py = await runAsync('python3', ['-c', script, main.url, tokenFile, id], 30_000);
    assert.equal(py.status, 0, `${py.stderr}\nagent:\n${main.stderr().slice(-3000)}`);
    const out = JSON.parse(py.stdout) as { status: number; body: Record<string, unknown>; username: string; denied: [number, string] };
    assert.equal(out.status, 200);
    assert.equal(out.username, 'app');
    assert.deepEqual(out.body, expectedBody(await sm.send(new GetSecretValueCommand({ SecretId: id }))));
    assert.deepEqual(out.denied, [403, 'Bad Token']);
  });

  test('SIGTERM and SIGINT stop it cleanly (exit 0), also while a read is in flight', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const a = await startAgentProc();
      assert.equal((await get(a, '/ping', {})).body, 'healthy');
      const status = await a.stop(signal);
      assert.deepEqual(status, { code: 0, signal: null }, a.stderr());
      assert.match(a.stderr(), new RegExp(`"signal":"${signal}".*lockstep agent stopped`));
      await assert.rejects(fetch(new URL('/ping', a.url)), 'no longer listening');
    }
    const a = await startAgentProc();
    const id = unique('inflight');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: canary('inflight') }));
    const reads = Array.from({ length: 20 }, () => get(a, secretPath(id)));
    a.child.kill('SIGTERM');
    for (const r of await Promise.allSettled(reads)) if (r.status === 'fulfilled') assert.equal(r.value.status, 200);
    assert.deepEqual(await a.stop(), { code: 0, signal: null }, a.stderr());
  });

  test('canary: no secret value and no token ever appears in any agent output', async () => {
    // The main agent has served every kind of request above; stop it so everything is flushed.
    await main.stop();
    assert.ok(canaries.length > 10);
    for (const a of agents) {
      const text = a.stdout() + a.stderr();
      for (const c of canaries) assert.ok(!text.includes(c), `a secret value in the output:\n${text}`);
      assert.ok(!text.includes(TOKEN), 'the token in the output');
    }
  });
});
