import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { rotateAndWait } from './helpers/db-rotation.js';
import { awsCliEnv, until } from './helpers/functions.js';
import { childEnv } from './helpers/process.js';

/*
 * The seed's application code (shared/seed/rotation-strategies.md, "Handling Rotation in Applications" →
 * "Retry with New Credentials": get_db_credentials, with_credential_refresh, query_database, with boto3 and
 * psycopg2) run UNCHANGED against Lockstep while the secret is rotated again and again with the built-in
 * alternating-users PostgreSQL function. Not one line of the seed is edited: the endpoint comes from
 * AWS_ENDPOINT_URL, the credentials from the server's root-credentials file.
 *
 * A harness is appended after the seed's block (never interleaved): a loop that every 20 ms calls the seed's
 * own `query_database()` (a new connection each time, as the seed connects per call), then does the seed's
 * "# Execute query..." on the connection it opened (an INSERT ... RETURNING current_user, so the user that
 * really logged in is known and every query leaves a row), closes it, and prints one JSON line.
 * `psycopg2.connect` is wrapped (after the seed's code, by attribute) only to observe the attempts and to
 * let the test hold one attempt: the credentials it was given are then made stale by two or three rotations
 * before it proceeds, which is exactly the race the seed's except-branch exists for. With alternating
 * users and a GetSecretValue on every call, that race is otherwise too narrow to happen on its own.
 */

const SEED = fileURLToPath(new URL('../../shared/seed/rotation-strategies.md', import.meta.url));
const HEADING = '### Retry with New Credentials';
const MULTI_USER = 'SecretsManagerRDSPostgreSQLRotationMultiUser';
const SECRET_ID = 'prod/myapp/database';
const USER = 'myapp';
const DBNAME = 'myapp';
const START_PASSWORD = 'seed-app-Start-1';

const HAVE_PY = spawnSync('python3', ['-c', 'import boto3, psycopg2'], { encoding: 'utf8', env: childEnv() }).status === 0;

/** The first ```python block after a markdown heading. */
function pythonBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `the seed has no heading '${heading}'`);
  const m = /```python\n([\s\S]*?)\n```/.exec(markdown.slice(at));
  assert.ok(m, `no python block after '${heading}'`);
  return m[1];
}

/** Appended after the seed's block; everything it uses from the seed is referenced by name, nothing is redefined. */
const HARNESS = String.raw`

# ---- Lockstep test harness (appended; the seed's code above is unchanged) ----
import os as _os
import sys as _sys
import time as _time

_DIR = _os.environ['SEED_APP_DIR']
_HOLD = _os.path.join(_DIR, 'hold')
_HELD = _os.path.join(_DIR, 'held')
_STOP = _os.path.join(_DIR, 'stop')
_call = {'gsv': 0, 'attempts': [], 'conns': []}


def _emit(**fields):
    _sys.stdout.write(json.dumps(fields) + '\n')
    _sys.stdout.flush()


def _count_get_secret_value(**kwargs):
    _call['gsv'] += 1


secrets.meta.events.register('after-call.secrets-manager.GetSecretValue', _count_get_secret_value)

_real_connect = psycopg2.connect


def _observed_connect(*args, **kwargs):
    attempt = {'user': kwargs.get('user')}
    _call['attempts'].append(attempt)
    try:
        _os.rename(_HOLD, _HELD)  # the test asked to hold the next attempt
    except FileNotFoundError:
        pass
    else:
        _emit(event='held', user=kwargs.get('user'), version=_secret_version)
        while _os.path.exists(_HELD):
            _time.sleep(0.005)
        attempt['held'] = True
    try:
        conn = _real_connect(*args, **kwargs)
    except psycopg2.OperationalError as e:
        attempt['error'] = str(e).strip()
        raise
    _call['conns'].append(conn)
    return conn


psycopg2.connect = _observed_connect

_n = 0
_emit(event='started')
while not _os.path.exists(_STOP):
    _n += 1
    _call.update(gsv=0, attempts=[], conns=[])
    _t0 = _time.monotonic()
    try:
        query_database()
        conn = _call['conns'][-1]
        with conn.cursor() as cur:
            cur.execute('INSERT INTO app.events (n) VALUES (%s) RETURNING current_user', (_n,))
            user = cur.fetchone()[0]
        conn.commit()
        _emit(n=_n, ok=True, user=user, version=_secret_version, gsv=_call['gsv'], attempts=_call['attempts'],
              ms=round((_time.monotonic() - _t0) * 1000, 1))
    except Exception as e:
        _emit(n=_n, ok=False, error='%s: %s' % (type(e).__name__, str(e).strip()), gsv=_call['gsv'], attempts=_call['attempts'])
    finally:
        for c in _call['conns']:
            try:
                c.close()
            except Exception:
                pass
    _time.sleep(0.02)
_emit(event='stopped', queries=_n)
`;

interface Attempt { user: string; held?: boolean; error?: string }
interface Line {
  event?: string; n?: number; ok?: boolean; user?: string; version?: string; gsv?: number; attempts?: Attempt[]; error?: string; ms?: number;
  queries?: number;
}

/** The python process: its JSON lines as they arrive. */
class App {
  readonly lines: Line[] = [];
  stderr = '';
  private buf = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (l.trim()) this.lines.push(JSON.parse(l) as Line);
      }
    });
    child.stderr!.on('data', (d: string) => { this.stderr += d; });
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }
  get queries(): Line[] { return this.lines.filter((l) => l.n !== undefined); }
  running(): boolean { return this.child.exitCode === null && this.child.signalCode === null; }
  /** Waits for a line matching `pred` at index >= `from`; fails early when the process has died. */
  wait(what: string, pred: (l: Line) => boolean, from = 0, timeoutMs = 15_000): Promise<Line> {
    return until(what, timeoutMs, () => {
      const hit = this.lines.slice(from).find(pred);
      if (hit) return hit;
      if (!this.running()) throw new Error(`the python app exited while waiting for ${what}:\n${this.stderr}`);
      return undefined;
    }, 10);
  }
}

let db: PgCluster;
let srv: TestServer;
let sm: SecretsManagerClient;
let dir: string;
let app: App | undefined;

before(async () => {
  db = await startPgCluster();
  srv = await startServer({ rotation: { retryBaseMs: 50, maxAttempts: 3 } });
  sm = srv.client();
  dir = mkdtempSync(join(tmpdir(), 'lockstep-seed-app-'));
});

after(async () => {
  const child = app?.child;
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await app!.exited;
  }
  await srv?.stop();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the seed's 'Retry with New Credentials' application code, unchanged", () => {
  test('python3 can import boto3 and psycopg2 (.ci/run installs them)', () => {
    assert.ok(HAVE_PY, 'python3 cannot import boto3 and psycopg2');
  });

  test('the seed block is what the harness runs: verbatim, no endpoint in it', () => {
    const block = pythonBlockAfter(readFileSync(SEED, 'utf8'), HEADING);
    for (const s of [
      "secrets = boto3.client('secretsmanager')", "SecretId='prod/myapp/database'", 'def with_credential_refresh(func):',
      "if 'authentication failed' in str(e).lower():", '@with_credential_refresh\ndef query_database():', "database=creds['database']",
    ]) assert.ok(block.includes(s), s);
    assert.ok(block.trimEnd().endsWith('# Execute query...'));
    assert.ok(!/endpoint/i.test(block), 'the seed names no endpoint: it comes from AWS_ENDPOINT_URL');
    const r = spawnSync('python3', ['-c', 'import sys; compile(sys.stdin.read(), "seed_app.py", "exec")'], { input: block + HARNESS, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('queries keep running through 12 alternating-user rotations: none fails, both users log in, the refresh path retries', { skip: !HAVE_PY && 'no boto3/psycopg2' }, async (t) => {
    // The database: one login role owning a schema with a table; the secret and its master secret.
    await db.query(`CREATE ROLE "${USER}" LOGIN PASSWORD '${START_PASSWORD}'`);
    await db.query(`CREATE DATABASE "${DBNAME}"`);
    await db.query(`CREATE SCHEMA app AUTHORIZATION "${USER}"`, [], DBNAME);
    await db.query(`SET ROLE "${USER}"; CREATE TABLE app.events (id bigserial PRIMARY KEY, n int NOT NULL, username text NOT NULL DEFAULT current_user, at timestamptz NOT NULL DEFAULT now()); RESET ROLE`, [], DBNAME);
    const master = await sm.send(new CreateSecretCommand({
      Name: 'prod/myapp/master',
      SecretString: JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: db.port, username: db.superuser, password: db.superPassword }),
    }));
    const created = await sm.send(new CreateSecretCommand({
      Name: SECRET_ID,
      SecretString: JSON.stringify({
        engine: 'postgres', host: '127.0.0.1', port: db.port, username: USER, password: START_PASSWORD, dbname: DBNAME, database: DBNAME, masterarn: master.ARN,
      }),
    }));

    // The seed's block verbatim, then the harness; the endpoint and credentials through the environment only.
    const block = pythonBlockAfter(readFileSync(SEED, 'utf8'), HEADING);
    const file = join(dir, 'seed_app.py');
    writeFileSync(file, block + HARNESS);
    assert.ok(readFileSync(file, 'utf8').startsWith(`${block}\n\n# ---- Lockstep test harness`));
    const env = awsCliEnv(join(srv.dataDir, 'root-credentials'), srv.dataDir, {
      AWS_ENDPOINT_URL: srv.endpoint, AWS_DEFAULT_REGION: 'us-east-1', SEED_APP_DIR: dir, PYTHONUNBUFFERED: '1',
    });
    app = new App(spawn('python3', [file], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
    const a = app;
    await a.wait('the app to start', (l) => l.event === 'started');
    const first = await a.wait('a first query', (l) => l.n !== undefined);
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.equal(first.user, USER);
    assert.equal(first.version, created.VersionId);

    const currentVersion = async () => (await sm.send(new GetSecretValueCommand({ SecretId: SECRET_ID }))).VersionId!;
    let rotations = 0;
    const tokens: string[] = [];
    /** The versions the app must have queried with: every one but those a held attempt slept through. */
    const mustUse = [created.VersionId!];
    const rotateOnce = async () => {
      const run = await rotateAndWait(srv, sm, SECRET_ID, rotations === 0 ? MULTI_USER : undefined);
      assert.equal(run.State, 'succeeded', run.LastError);
      rotations++;
      tokens.push(run.Token);
      assert.equal(await currentVersion(), run.Token);
    };
    /** A rotation with the app querying freely: it must then run a query with the new version. */
    const freeRotation = async () => {
      await rotateOnce();
      const token = tokens.at(-1)!;
      mustUse.push(token);
      const from = a.lines.length;
      const l = await a.wait(`a query with version ${token}`, (x) => x.n !== undefined && x.version === token, from);
      assert.equal(l.ok, true, JSON.stringify(l));
    };
    /**
     * Holds the app's next connection attempt (credentials already read), runs `n` rotations (n >= 2 makes
     * them stale: the held user's password is changed by the second), then lets it go: the seed's
     * except-branch must clear its cache and retry with the new AWSCURRENT.
     */
    const heldRotations = async (n: number) => {
      const from = a.lines.length;
      writeFileSync(join(dir, 'hold'), '');
      const held = await a.wait('a held connection attempt', (l) => l.event === 'held', from);
      for (let i = 0; i < n; i++) await rotateOnce();
      unlinkSync(join(dir, 'held'));
      const l = await a.wait('the held query to end', (x) => x.n !== undefined && x.attempts!.some((at) => at.held), from);
      assert.equal(l.ok, true, `the held query failed: ${JSON.stringify(l)}`);
      assert.equal(l.attempts!.length, 2, JSON.stringify(l));
      assert.match(l.attempts![0].error ?? '', /password authentication failed for user/, JSON.stringify(l));
      assert.equal(l.attempts![0].user, held.user);
      assert.equal(l.gsv, 2, 'the retry read the secret again');
      assert.equal(l.version, tokens.at(-1), 'the retry used the new AWSCURRENT');
      mustUse.push(tokens.at(-1)!);
      return { held, line: l };
    };

    const started = performance.now();
    for (let i = 0; i < 3; i++) await freeRotation();
    const held2 = await heldRotations(2); // the same user, with its new password
    for (let i = 0; i < 2; i++) await freeRotation();
    const held3 = await heldRotations(3); // the other user
    for (let i = 0; i < 2; i++) await freeRotation();
    const elapsed = performance.now() - started;

    // Stop the app and wait for it to exit by itself.
    writeFileSync(join(dir, 'stop'), '');
    const code = await Promise.race([a.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    assert.equal(code, 0, `the app did not exit cleanly (${code}):\n${a.stderr}`);
    assert.equal(a.stderr, '', a.stderr);
    const stopped = a.lines.at(-1)!;
    assert.equal(stopped.event, 'stopped');

    const queries = a.queries;
    const failed = queries.filter((l) => !l.ok);
    const refreshed = queries.filter((l) => l.attempts!.length > 1);
    const natural = refreshed.filter((l) => !l.attempts!.some((at) => at.held));
    const users = [...new Set(queries.map((l) => l.user))].sort();
    const versions = new Set(queries.map((l) => l.version));
    t.diagnostic(
      `${rotations} rotations in ${(elapsed / 1000).toFixed(1)} s; ${queries.length} queries (a new connection each), ${failed.length} failed; ` +
        `users ${users.join(', ')}; ${versions.size} of ${rotations + 1} secret versions used; ${refreshed.length} went through the seed's refresh-and-retry ` +
        `(${refreshed.length - natural.length} held across rotations, ${natural.length} on their own); ` +
        `GetSecretValue calls ${queries.reduce((s, l) => s + l.gsv!, 0)}`,
    );

    assert.equal(rotations, 12);
    assert.equal(failed.length, 0, `failed queries: ${failed.slice(0, 5).map((l) => l.error).join(' | ')}`);
    assert.equal(stopped.queries, queries.length, 'one line per query');
    assert.deepEqual(queries.map((l) => l.n), queries.map((_, i) => i + 1));
    assert.deepEqual(users, [USER, `${USER}_clone`], 'queries ran as both users: the credentials really switched');
    // Every version was used but the 1 + 2 a held attempt slept through (the app never saw them as AWSCURRENT).
    assert.equal(mustUse.length, rotations + 1 - 3);
    assert.deepEqual([...versions].sort(), [...mustUse].sort(), 'the versions the app queried with');
    assert.ok(refreshed.length >= 2, 'the refresh path ran');
    for (const l of refreshed) assert.match(l.attempts![0].error ?? '', /authentication failed/);
    // Held across 2 rotations: the same user comes back with its new password; across 3, the other user.
    assert.equal(held2.line.user, held2.held.user);
    assert.notEqual(held3.line.user, held3.held.user);
    // Every call read the secret: once, or twice when it retried.
    for (const l of queries) assert.equal(l.gsv, l.attempts!.length, JSON.stringify(l));
    // The rows: one per successful query, each written by the user that query reports.
    const rows = await db.query<{ n: number; username: string }>('SELECT n, username FROM app.events ORDER BY n', [], DBNAME);
    assert.deepEqual(rows.map((r) => [r.n, r.username]), queries.map((l) => [l.n, l.user]));
    // The secret kept the seed's `database` key through the rotations.
    const final = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: SECRET_ID }))).SecretString!);
    assert.equal(final.database, DBNAME);
    assert.ok(!existsSync(join(dir, 'held')));
  });
});
