// Part 5: Database rotation — rotations per second with the built-in rotation functions against real
// databases that check passwords: a private PostgreSQL cluster (scram-sha-256) and the machine's MariaDB.
//
// For each engine: N users rotated single-user (each changes its own password), and N alternating-user
// pairs rotated twice (the first pass creates the N clones `<user>_clone`, the second switches back to the
// primaries; both re-synchronise the clone's privileges from the primary's). The Lockstep server runs in
// this process (startLockstep, default engine options: up to 16 runs at once), as in part 4; the secrets
// are created and rotated through the AWS SDK over HTTP. Every pass is checked afterwards by logging in
// with a sample of the secrets' new AWSCURRENT credentials.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { startInProcess } from './rotation.js';
import type { Creds } from './sign.js';
import { log, pct, pool, since } from './stats.js';

type InProc = Awaited<ReturnType<typeof startInProcess>>;

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
/** Secrets whose new credentials are tried after each pass (all of them when there are fewer). */
const VERIFY_SAMPLE = 20;
/** Tables each alternating primary may read and write (so the privilege sync has grants to copy). */
const TABLES = ['t1', 't2', 't3', 't4', 't5'];

export type DbEngine = 'postgresql' | 'mariadb';
export type DbPassName = 'single' | 'alternating-1' | 'alternating-2';

/** What the check after a pass found. */
export interface DbVerify {
  /** Secrets checked (a random sample). */
  sampled: number;
  ok: number;
  failed: number;
  firstError?: string;
  /** What was checked, in words. */
  checks: string;
}

/** One measured pass: RotateSecret on every secret of one kind. */
export interface DbPass {
  engine: DbEngine;
  pass: DbPassName;
  /** The built-in function's name. */
  function: string;
  rotations: number;
  succeeded: number;
  failed: number;
  firstError?: string;
  /** RotateSecret calls in flight (the engine executes up to 16 runs at once and queues the rest). */
  concurrency: number;
  /** First RotateSecret call to the last run's end (the run journal's finish time). */
  seconds: number;
  rotationsPerS: number;
  /** Per rotation, from the run journal: the run's start (inside RotateSecret) to its finish; includes the wait for an engine slot. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Per rotation: the first step's start to the run's finish (execution alone, without the queue). */
  execP50Ms: number;
  execP99Ms: number;
  /** Median duration of each step (successful attempts), from the journal. */
  stepP50Ms: Record<string, number>;
  /** Runs in which some step needed more than one attempt. */
  retriedRuns: number;
  /** CPU of this process (server, engine, built-in functions, SDK client), % of one core. */
  processCpuPct: number;
  /**
   * CPU of the database server, % of one core: PostgreSQL's postmaster with its (exited) backends; the
   * MariaDB server process, whose other clients count too (it is shared). NaN when it cannot be read.
   */
  dbServerCpuPct: number;
  /** CPU of the whole machine (all processes, database servers included), % of all cores (/proc/stat). */
  machineCpuPct: number;
  verify: DbVerify;
}

export interface DbEngineResult {
  engine: DbEngine;
  /** The database server's version string and where it ran. */
  server: string;
  users: { single: number; alternating: number };
  /** Creating the users, grants and secrets (not measured as rotation). */
  setupSeconds: number;
  passes: DbPass[];
  /** Set when the part stopped early (setting up, or a pass threw); the passes measured so far are kept. */
  error?: string;
  /** Whether every bench user and the bench database were removed afterwards. */
  cleanup: { ok: boolean; error?: string };
  seconds: number;
}

export type DbEngineOutcome = DbEngineResult | { engine: DbEngine; skipped: string };

export interface DbResult {
  users: number;
  concurrency: number;
  engines: DbEngineOutcome[];
  seconds: number;
}

export interface DbOptions {
  dataDir: (name: string) => string;
  creds: Creds;
  /** Single-user secrets, and alternating pairs, per engine. */
  users: number;
  /** RotateSecret calls in flight. */
  concurrency: number;
}

// ------------------------------------------------------------------------------------- the databases

/** One login to try: a secret's credentials, and (for alternating users) a table it must be able to write. */
interface Login {
  username: string;
  password: string;
  dbname: string;
  /** INSERT into and SELECT from this table after logging in. */
  table?: string;
}

/** A database server prepared for the bench. */
interface Target {
  engine: DbEngine;
  /** The `engine` field of the secrets. */
  secretEngine: string;
  server: string;
  host: string;
  port: number;
  dbname: string;
  /** The master user (creates the clones, synchronises privileges). */
  master: { username: string; password: string };
  /** The database server's process (its CPU is read from /proc), when known. */
  serverPid?: number;
  /** Creates single users (login only) and alternating primaries (with grants on TABLES). */
  createUsers(single: { name: string; password: string }[], primaries: { name: string; password: string }[]): Promise<void>;
  /** The table an alternating pair writes in the check (the primary's name). */
  tableOf(primary: string): string;
  /** Logs in (and writes, when `table` is set): true; false when the password is refused; other failures throw. */
  tryLogin(l: Login): Promise<boolean>;
  /** Removes everything the bench created; throws when something could not be removed. */
  cleanup(): Promise<void>;
}

/** Cleanups of targets not yet cleaned up, for the bench's signal handler. */
const pendingCleanups = new Set<() => Promise<void>>();

/** Removes the bench's database users and databases of a run that was interrupted. */
export async function cleanupDb(): Promise<void> {
  await Promise.allSettled([...pendingCleanups].map((c) => c()));
}

const initialPassword = () => `Init-${randomBytes(12).toString('hex')}`;

/** A private PostgreSQL cluster (scram-sha-256), with the bench database. */
async function postgresTarget(prefix: string): Promise<Target> {
  const { startPgCluster } = await import('../../test/helpers/pg-cluster.js');
  const cluster = await startPgCluster();
  pendingCleanups.add(cluster.stop);
  const dbname = prefix;
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const superClient = async (database: string) => {
    const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.superuser, password: cluster.superPassword, database });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  try {
    await cluster.query(`CREATE DATABASE ${q(dbname)}`);
    const [{ v }] = await cluster.query<{ v: string }>('SELECT version() AS v');
    let serverPid: number | undefined;
    try {
      serverPid = Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
    } catch {
      // The server's CPU is then not reported.
    }
    return {
      serverPid,
      engine: 'postgresql', secretEngine: 'postgres', server: `${String(v).split(' on ')[0]} (private cluster, scram-sha-256)`,
      host: cluster.host, port: cluster.port, dbname,
      master: { username: cluster.superuser, password: cluster.superPassword },
      async createUsers(single, primaries) {
        const c = await superClient(dbname);
        try {
          for (let i = 0; i < single.length; i += 50) {
            await c.query(single.slice(i, i + 50).map((u) => `CREATE ROLE ${q(u.name)} LOGIN PASSWORD ${lit(u.password)};`).join('\n'));
          }
          // Each primary: its own schema (named after it) with five tables owned by the superuser, on which
          // it has USAGE and SELECT, INSERT; so the clone needs a schema grant and ten table grants.
          for (const u of primaries) {
            const s = q(u.name);
            await c.query([
              `CREATE ROLE ${s} LOGIN PASSWORD ${lit(u.password)};`,
              `CREATE SCHEMA ${s};`,
              ...TABLES.map((t) => `CREATE TABLE ${s}.${t} (id int, v text, at timestamptz DEFAULT now());`),
              `GRANT USAGE ON SCHEMA ${s} TO ${s};`,
              `GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA ${s} TO ${s};`,
            ].join('\n'));
          }
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      tableOf: (primary) => `${q(primary)}.${TABLES[0]}`,
      async tryLogin(l) {
        const c = new pg.Client({ host: cluster.host, port: cluster.port, user: l.username, password: l.password, database: l.dbname, connectionTimeoutMillis: 10_000 });
        c.on('error', () => undefined);
        try {
          await c.connect();
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === '28P01' || code === '28000') return false;
          throw e;
        }
        try {
          if (l.table) {
            await c.query(`INSERT INTO ${l.table} (id, v) VALUES (1, current_user)`);
            await c.query(`SELECT count(*) FROM ${l.table}`);
          } else {
            await c.query('SELECT 1');
          }
          return true;
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      async cleanup() {
        pendingCleanups.delete(cluster.stop);
        await cluster.stop();
      },
    };
  } catch (e) {
    pendingCleanups.delete(cluster.stop);
    await cluster.stop();
    throw e;
  }
}

/**
 * The machine's shared MariaDB (127.0.0.1:3306, root without a password): uniquely named users
 * (`<prefix>_...`, host '%') and one database `<prefix>`, all dropped by `cleanup()`. The master user is
 * a bench user with ALL PRIVILEGES ON *.* WITH GRANT OPTION and a password (a secret's password must not
 * be empty, and root has none here).
 */
async function mariadbTarget(prefix: string): Promise<Target> {
  const HOST = '127.0.0.1';
  const PORT = 3306;
  const root = () => mysql.createConnection({ host: HOST, port: PORT, user: 'root', password: '', multipleStatements: true, connectTimeout: 10_000 });
  const dbname = prefix;
  const E = mysql.escape;
  const D = mysql.escapeId(dbname);
  const master = { username: `${prefix}_m`, password: initialPassword() };
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    const c = await root();
    try {
      // Every host entry of every user with the bench's prefix (the clones included).
      const [rows] = await c.query('SELECT User AS u, Host AS h FROM mysql.user WHERE LEFT(User, ?) = ?', [prefix.length + 1, `${prefix}_`]);
      for (const r of rows as { u: string; h: string }[]) await c.query('DROP USER IF EXISTS ?@?', [r.u, r.h]);
      await c.query(`DROP DATABASE IF EXISTS ${D}`);
      const [left] = await c.query('SELECT COUNT(*) AS n FROM mysql.user WHERE LEFT(User, ?) = ?', [prefix.length + 1, `${prefix}_`]);
      const n = Number((left as { n: number }[])[0].n);
      if (n > 0) throw new Error(`${n} bench users are still there after DROP USER`);
      cleaned = true;
      pendingCleanups.delete(cleanup);
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const c = await root();
  pendingCleanups.add(cleanup);
  try {
    const [[{ v, pidFile }]] = (await c.query('SELECT VERSION() AS v, @@pid_file AS pidFile')) as unknown as [{ v: string; pidFile: string }[]];
    let serverPid: number | undefined;
    try {
      serverPid = Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
    } catch {
      // The server's CPU is then not reported.
    }
    await c.query([
      `CREATE DATABASE ${D};`,
      ...TABLES.map((t) => `CREATE TABLE ${D}.${t} (id int AUTO_INCREMENT PRIMARY KEY, v varchar(64), at timestamp DEFAULT current_timestamp);`),
      `CREATE USER ${E(master.username)}@'%' IDENTIFIED BY ${E(master.password)};`,
      `GRANT ALL PRIVILEGES ON *.* TO ${E(master.username)}@'%' WITH GRANT OPTION;`,
    ].join('\n'));
    return {
      engine: 'mariadb', secretEngine: 'mariadb', server: `MariaDB ${v} (the machine's shared server)`, serverPid,
      host: HOST, port: PORT, dbname, master,
      async createUsers(single, primaries) {
        const c = await root();
        try {
          for (let i = 0; i < single.length; i += 50) {
            await c.query(single.slice(i, i + 50).flatMap((u) => [
              `CREATE USER ${E(u.name)}@'%' IDENTIFIED BY ${E(u.password)};`,
              `GRANT SELECT ON ${D}.* TO ${E(u.name)}@'%';`,
            ]).join('\n'));
          }
          // Each primary: SELECT, INSERT on each of the five tables (table-level grants the clone must get too).
          for (let i = 0; i < primaries.length; i += 20) {
            await c.query(primaries.slice(i, i + 20).flatMap((u) => [
              `CREATE USER ${E(u.name)}@'%' IDENTIFIED BY ${E(u.password)};`,
              ...TABLES.map((t) => `GRANT SELECT, INSERT ON ${D}.${t} TO ${E(u.name)}@'%';`),
            ]).join('\n'));
          }
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      tableOf: () => TABLES[0],
      async tryLogin(l) {
        let conn: mysql.Connection;
        try {
          conn = await mysql.createConnection({ host: HOST, port: PORT, user: l.username, password: l.password, database: l.dbname, connectTimeout: 10_000 });
        } catch (e) {
          if ((e as { errno?: number }).errno === 1045) return false;
          throw e;
        }
        conn.on('error', () => undefined);
        try {
          if (l.table) {
            await conn.query(`INSERT INTO ${mysql.escapeId(l.table)} (v) VALUES (CURRENT_USER())`);
            await conn.query(`SELECT COUNT(*) FROM ${mysql.escapeId(l.table)}`);
          } else {
            await conn.query('SELECT 1');
          }
          return true;
        } finally {
          await conn.end().catch(() => conn.destroy());
        }
      },
      cleanup,
    };
  } catch (e) {
    await cleanup().catch(() => undefined);
    throw e;
  } finally {
    await c.end().catch(() => undefined);
  }
}

// ------------------------------------------------------------------------------------------ measuring

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** utime+stime+cutime+cstime of a process in seconds (its waited-for children included); NaN when unreadable. */
function processCpu(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return (f[11] + f[12] + f[13] + f[14]) / 100;
  } catch {
    return NaN;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

interface Journal {
  state: string;
  startedMs: number;
  finishedMs?: number;
  firstStepMs?: number;
  lastError?: string;
  retried: boolean;
  steps: { step: string; ms: number }[];
}

/** The run of `token` on secret `name`, from the server's run journal. */
async function journalOf(s: InProc, name: string, token: string): Promise<Journal | undefined> {
  const { requireSecret } = await import('../../src/secrets/context.js');
  const { rotationHistory } = await import('../../src/rotation/history.js');
  const runs = await s.app.ctx.store.read(async (tx) => rotationHistory(tx, await requireSecret(s.app.ctx, tx, name), 10));
  const r = runs.find((x) => x.Token === token);
  if (!r) return undefined;
  return {
    state: r.State,
    startedMs: r.StartedDate * 1000,
    ...(r.FinishedDate !== undefined ? { finishedMs: r.FinishedDate * 1000 } : {}),
    ...(r.Steps.length ? { firstStepMs: Math.min(...r.Steps.map((st) => st.StartedDate * 1000)) } : {}),
    ...(r.LastError ? { lastError: r.LastError } : {}),
    retried: r.Steps.some((st) => st.Attempt > 1),
    steps: r.Steps.filter((st) => st.Outcome === 'succeeded').map((st) => ({ step: st.Step, ms: st.DurationMs })),
  };
}

/** RotateSecret on every secret in `names` (`concurrency` calls in flight); waits for every run and reads the journal. */
async function measurePass(
  s: InProc, t: Target, pass: DbPassName, fnName: string, names: string[], concurrency: number,
  verify: () => Promise<DbVerify>,
): Promise<DbPass> {
  log(`${t.engine} ${pass}: RotateSecret on ${names.length} secrets with ${fnName} (${concurrency} calls in flight)`);
  const tokens = new Map<string, string>(); // secret name -> token
  const cpu0 = process.cpuUsage();
  const m0 = machineCpu();
  const db0 = processCpu(t.serverPid);
  const firstCallMs = Date.now();
  const r = await pool(names.length, concurrency, async (i) => {
    const token = randomUUID();
    await s.sm.send(new RotateSecretCommand({ SecretId: names[i], RotationLambdaARN: fnArn(fnName), ClientRequestToken: token }));
    tokens.set(names[i], token);
  });
  await Promise.all([...tokens.values()].map((tok) => s.events.wait(tok, 900_000).catch(() => undefined)));
  const cpu = process.cpuUsage(cpu0);
  const m1 = machineCpu();
  const db1 = processCpu(t.serverPid);
  const wallS = (Date.now() - firstCallMs) / 1000;

  const lat: number[] = [];
  const exec: number[] = [];
  const steps = new Map<string, number[]>();
  let failed = r.errors.length;
  let firstError = r.errors[0];
  let lastFinishMs = -Infinity;
  let retriedRuns = 0;
  for (const [name, token] of tokens) {
    const j = await journalOf(s, name, token);
    if (j?.retried) retriedRuns++;
    if (!j || j.state !== 'succeeded' || j.finishedMs === undefined) {
      failed++;
      firstError ??= j ? `${name}: run ${j.state}${j.lastError ? `: ${j.lastError}` : ''}` : `${name}: no run for ${token}`;
      continue;
    }
    lat.push(j.finishedMs - j.startedMs);
    if (j.firstStepMs !== undefined) exec.push(j.finishedMs - j.firstStepMs);
    lastFinishMs = Math.max(lastFinishMs, j.finishedMs);
    for (const st of j.steps) {
      const xs = steps.get(st.step) ?? [];
      xs.push(st.ms);
      steps.set(st.step, xs);
    }
  }
  const seconds = Number.isFinite(lastFinishMs) ? (lastFinishMs - firstCallMs) / 1000 : wallS;
  const out: DbPass = {
    engine: t.engine, pass, function: fnName, rotations: names.length, succeeded: lat.length, failed,
    ...(firstError ? { firstError } : {}),
    concurrency, seconds, rotationsPerS: lat.length / seconds,
    p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), maxMs: lat.length ? Math.max(...lat) : NaN,
    execP50Ms: pct(exec, 50), execP99Ms: pct(exec, 99),
    stepP50Ms: Object.fromEntries(['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((st) => [st, pct(steps.get(st) ?? [], 50)])),
    retriedRuns,
    processCpuPct: ((cpu.user + cpu.system) / 1e6 / wallS) * 100,
    dbServerCpuPct: ((db1 - db0) / wallS) * 100,
    machineCpuPct: m1.total > m0.total ? ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 : NaN,
    verify: await verify(),
  };
  const v = out.verify;
  log(
    `${t.engine} ${pass}: ${out.succeeded} ok, ${out.failed} failed in ${out.seconds.toFixed(1)} s = ${out.rotationsPerS.toFixed(1)}/s ` +
      `(p50 ${out.p50Ms.toFixed(0)} ms, p99 ${out.p99Ms.toFixed(0)} ms, max ${out.maxMs.toFixed(0)} ms; exec p50 ${out.execP50Ms.toFixed(0)} ms; ` +
      `CPU ${out.processCpuPct.toFixed(0)}%, database ${out.dbServerCpuPct.toFixed(0)}%, machine ${out.machineCpuPct.toFixed(0)}%); check: ${v.ok}/${v.sampled} ok` +
      `${out.firstError ? `; first error: ${out.firstError}` : ''}${v.firstError ? `; check error: ${v.firstError}` : ''}`,
  );
  return out;
}

/** Up to VERIFY_SAMPLE names picked at random. */
function sample<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, VERIFY_SAMPLE);
}

async function secretValue(s: InProc, name: string, stage: string): Promise<Record<string, any>> {
  const out = await s.sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }));
  return JSON.parse(out.SecretString ?? '{}') as Record<string, any>;
}

/**
 * Checks a sample of secrets after a pass, each with fresh connections to the database (which checks
 * passwords): every check in `check` must hold. Resolves with the counts; never throws.
 */
async function verifySample(
  s: InProc, names: string[], checks: string, check: (name: string, cur: Record<string, any>, prev: Record<string, any>) => Promise<string | undefined>,
): Promise<DbVerify> {
  const picked = sample(names);
  let ok = 0;
  let firstError: string | undefined;
  await pool(picked.length, 4, async (i) => {
    const name = picked[i];
    let problem: string | undefined;
    try {
      const cur = await secretValue(s, name, 'AWSCURRENT');
      const prev = await secretValue(s, name, 'AWSPREVIOUS');
      problem = await check(name, cur, prev);
    } catch (e) {
      problem = errorText(e);
    }
    if (problem) firstError ??= `${name}: ${problem}`;
    else ok++;
  });
  return { sampled: picked.length, ok, failed: picked.length - ok, ...(firstError ? { firstError } : {}), checks };
}

// ------------------------------------------------------------------------------------------ one engine

const FUNCTIONS: Record<DbEngine, { single: string; multi: string }> = {
  postgresql: { single: 'SecretsManagerRDSPostgreSQLRotationSingleUser', multi: 'SecretsManagerRDSPostgreSQLRotationMultiUser' },
  mariadb: { single: 'SecretsManagerRDSMariaDBRotationSingleUser', multi: 'SecretsManagerRDSMariaDBRotationMultiUser' },
};

async function runEngine(s: InProc, engine: DbEngine, opts: DbOptions): Promise<DbEngineOutcome> {
  const t0 = process.hrtime.bigint();
  // The driver loads on the first rotation inside the server; a driver that cannot load skips the engine.
  const driverModule = engine === 'postgresql' ? '../../src/rotation/rotators/postgres.js' : '../../src/rotation/rotators/mysql.js';
  try {
    await import(driverModule);
  } catch (e) {
    const reason = `the ${engine === 'postgresql' ? 'PostgreSQL' : 'MySQL/MariaDB'} driver cannot be loaded (${errorText(e)})`;
    log(`${engine}: skipped: ${reason}`);
    return { engine, skipped: reason };
  }
  const prefix = `lsb_${randomBytes(3).toString('hex')}`;
  let t: Target;
  try {
    t = engine === 'postgresql' ? await postgresTarget(prefix) : await mariadbTarget(prefix);
  } catch (e) {
    const reason = `no ${engine === 'postgresql' ? 'private PostgreSQL cluster' : 'MariaDB at 127.0.0.1:3306'} (${errorText(e).split('\n')[0]})`;
    log(`${engine}: skipped: ${reason}`);
    return { engine, skipped: reason };
  }
  const passes: DbPass[] = [];
  let setupSeconds = NaN;
  let cleanup: DbEngineResult['cleanup'] = { ok: true };
  let error: string | undefined;
  const n = opts.users;
  try {
    log(`${engine}: ${t.server} at ${t.host}:${t.port}; creating ${n} single users, ${n} primaries with grants, and ${2 * n + 2} secrets (prefix ${prefix})`);
    const ts = process.hrtime.bigint();
    const single = Array.from({ length: n }, (_, i) => ({ name: `${prefix}_s${i}`, password: initialPassword() }));
    const primaries = Array.from({ length: n }, (_, i) => ({ name: `${prefix}_a${i}`, password: initialPassword() }));
    const warm = { name: `${prefix}_w`, password: initialPassword() };
    await t.createUsers([...single, warm], primaries);
    const base = { engine: t.secretEngine, host: t.host, port: t.port, dbname: t.dbname };
    const master = await s.sm.send(new CreateSecretCommand({
      Name: `bench/db/${engine}/master`, SecretString: JSON.stringify({ ...base, username: t.master.username, password: t.master.password }),
    }));
    const secretName = (kind: string, user: string) => `bench/db/${engine}/${kind}/${user}`;
    const all = [
      ...single.map((u) => ({ Name: secretName('single', u.name), u, extra: {} })),
      { Name: secretName('warm', warm.name), u: warm, extra: {} },
      ...primaries.map((u) => ({ Name: secretName('alternating', u.name), u, extra: { masterarn: master.ARN } })),
    ];
    const created = await pool(all.length, 16, async (i) => {
      const x = all[i];
      await s.sm.send(new CreateSecretCommand({ Name: x.Name, SecretString: JSON.stringify({ ...base, username: x.u.name, password: x.u.password, ...x.extra }) }));
    });
    if (created.errors.length) throw new Error(`CreateSecret failed ${created.errors.length} times: ${created.errors[0]}`);
    setupSeconds = since(ts);
    log(`${engine}: set up in ${setupSeconds.toFixed(1)} s`);

    // One untimed rotation: the driver's import and the first connections are not measured.
    const wt = randomUUID();
    await s.sm.send(new RotateSecretCommand({ SecretId: secretName('warm', warm.name), RotationLambdaARN: fnArn(FUNCTIONS[engine].single), ClientRequestToken: wt }));
    const w = await s.events.wait(wt, 120_000);
    if (w.type !== 'RotationSucceeded') log(`${engine}: the warm-up rotation failed: ${w.error}`);

    const singleNames = single.map((u) => secretName('single', u.name));
    const altNames = primaries.map((u) => secretName('alternating', u.name));
    const login = (c: Record<string, any>, table?: string) =>
      t.tryLogin({ username: String(c.username), password: String(c.password), dbname: t.dbname, ...(table ? { table } : {}) });

    passes.push(await measurePass(s, t, 'single', FUNCTIONS[engine].single, singleNames, opts.concurrency, () =>
      verifySample(s, singleNames, 'AWSCURRENT logs in; AWSPREVIOUS (the old password) is refused', async (name, cur, prev) => {
        const user = name.slice(name.lastIndexOf('/') + 1);
        if (cur.username !== user) return `AWSCURRENT names '${cur.username}', expected '${user}'`;
        if (cur.password === prev.password) return 'the password did not change';
        if (!(await login(cur))) return 'the AWSCURRENT password is refused';
        if (await login(prev)) return 'the old (AWSPREVIOUS) password still logs in';
        return undefined;
      })));

    const altCheck = (expect: 'clone' | 'primary') => (name: string, cur: Record<string, any>, prev: Record<string, any>) => (async () => {
      const primary = name.slice(name.lastIndexOf('/') + 1);
      const want = expect === 'clone' ? `${primary}_clone` : primary;
      const other = expect === 'clone' ? primary : `${primary}_clone`;
      if (cur.username !== want) return `AWSCURRENT names '${cur.username}', expected '${want}'`;
      if (prev.username !== other) return `AWSPREVIOUS names '${prev.username}', expected '${other}'`;
      if (!(await login(cur, t.tableOf(primary)))) return `the AWSCURRENT password of '${want}' is refused`;
      if (!(await login(prev, t.tableOf(primary)))) return `the AWSPREVIOUS user '${other}' no longer logs in`;
      return undefined;
    })();
    const altChecks = (u: string) => `AWSCURRENT is ${u}, logs in and can INSERT/SELECT the primary's table; AWSPREVIOUS still does`;
    passes.push(await measurePass(s, t, 'alternating-1', FUNCTIONS[engine].multi, altNames, opts.concurrency, () =>
      verifySample(s, altNames, altChecks('the new clone'), altCheck('clone'))));
    passes.push(await measurePass(s, t, 'alternating-2', FUNCTIONS[engine].multi, altNames, opts.concurrency, () =>
      verifySample(s, altNames, altChecks('the primary again'), altCheck('primary'))));
  } catch (e) {
    error = errorText(e);
    log(`${engine}: stopped: ${error}`);
  } finally {
    try {
      await t.cleanup();
      log(`${engine}: removed the bench's users and database`);
    } catch (e) {
      cleanup = { ok: false, error: errorText(e) };
      log(`${engine}: cleanup failed: ${cleanup.error}`);
    }
  }
  return {
    engine, server: t.server, users: { single: n, alternating: n }, setupSeconds, passes, ...(error ? { error } : {}), cleanup, seconds: since(t0),
  };
}

// ------------------------------------------------------------------------------------------- part 5

export async function runDbRotation(opts: DbOptions): Promise<DbResult> {
  const t0 = process.hrtime.bigint();
  const engines: DbEngineOutcome[] = [];
  const s = await startInProcess(opts.dataDir('db'), opts.creds);
  try {
    for (const engine of ['postgresql', 'mariadb'] as const) engines.push(await runEngine(s, engine, opts));
  } finally {
    await s.close();
  }
  return { users: opts.users, concurrency: opts.concurrency, engines, seconds: since(t0) };
}
