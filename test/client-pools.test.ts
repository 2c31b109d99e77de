import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RowDataPacket } from 'mysql2/promise';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { rotateAndWait } from './helpers/db-rotation.js';
import { dropMariaDatabases, dropMariaUsers, mariaRoot, uniqueName } from './helpers/mariadb.js';
import { createMysqlPool, createPgPool, type RotatingPoolStats } from '../src/client/pools.js';

/*
 * The rotating pools of `lockstep/client` keep an application's queries working through rotations:
 * four query loops share one pool; every third operation checks a connection out and destroys it
 * afterwards, so the pool logs in again all the time (a pool that never logs in again would never
 * notice a rotation and would prove nothing). Every test asserts that refreshes and pool swaps did
 * happen, and that every row the loops inserted is in the table.
 */

const ALTERNATING = 20;
const SINGLE = 10;

let db: PgCluster;
let srv: TestServer;
let sm: SecretsManagerClient;

before(async () => {
  db = await startPgCluster();
  srv = await startServer({ rotation: { retryBaseMs: 50, maxAttempts: 3 } });
  sm = srv.client();
});

after(async () => {
  await srv?.stop();
  await db?.stop();
});

const uid = () => randomBytes(4).toString('hex');

/** Registers clean-ups that run after the test, last registered first (pools end before their database is dropped). */
function deferrer(t: TestContext): (fn: () => Promise<unknown>) => void {
  const fns: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await fn().catch(() => undefined);
  });
  return (fn) => fns.push(fn);
}

/** A Secrets Manager client that records the stage of every GetSecretValue it sends. */
function countingClient(): { client: Pick<SecretsManagerClient, 'send'>; reads: string[] } {
  const reads: string[] = [];
  const send = ((command: unknown, ...rest: unknown[]) => {
    if (command instanceof GetSecretValueCommand) reads.push(command.input.VersionStage ?? 'AWSCURRENT');
    return (sm.send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as SecretsManagerClient['send'];
  return { client: { send }, reads };
}

/** What one loop iteration does: a plain query, or a query on a checked-out connection that is then destroyed. */
interface Workload {
  query(i: number): Promise<unknown>;
  churn(): Promise<unknown>;
}

/** Runs `workers` loops until stopped; counts operations that succeeded and failed. */
function appLoop(w: Workload, workers = 4) {
  const stats = { ok: 0, failed: 0, errors: [] as string[] };
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    for (let i = 0; running; i++) {
      try {
        await (i % 3 === 2 ? w.churn() : w.query(i));
        stats.ok++;
      } catch (e) {
        stats.failed++;
        if (stats.errors.length < 5) stats.errors.push(`${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
      }
    }
  });
  return {
    stats,
    stop: async () => {
      await sleep(300); // time for the last rotation's refused login to happen and be recovered from
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * Rotates `n` times with a short pause after each rotation. Back to back (a MariaDB rotation takes about
 * 0.1 s) a loaded machine's application can fall a whole rotation behind: the credentials a refresh just
 * brought are refused again by the next rotation before the retry logs in, and an operation can run out
 * of retries. Real rotations are days apart; the pause keeps each rotation's window distinct.
 */
async function rotateMany(id: string, fn: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const run = await rotateAndWait(srv, sm, id, i === 0 ? fn : undefined);
    assert.equal(run.State, 'succeeded', run.LastError);
    await sleep(150);
  }
}

function describeRun(label: string, app: { ok: number; failed: number }, s: Readonly<RotatingPoolStats>, ms: number): string {
  return `${label}: ${app.ok} operations in ${(ms / 1000).toFixed(1)} s, ${app.failed} failed; ` +
    `${s.authFailures} refused logins, ${s.refreshes} refreshes, ${s.swaps} pool swaps`;
}

// ---- PostgreSQL ----

async function setupPg(user: string, password: string): Promise<string> {
  const dbname = `cp_${uid()}`;
  await db.query(`CREATE ROLE "${user}" LOGIN PASSWORD '${password}'`);
  await db.query(`CREATE DATABASE "${dbname}"`);
  await db.query(`CREATE SCHEMA app AUTHORIZATION "${user}"`, [], dbname);
  await db.query(`SET ROLE "${user}"; CREATE TABLE app.events (id bigserial PRIMARY KEY, at timestamptz); RESET ROLE`, [], dbname);
  return dbname;
}

async function dropPg(dbname: string, users: string[]): Promise<void> {
  await db.query(`DROP DATABASE IF EXISTS "${dbname}" WITH (FORCE)`);
  for (const u of users) await db.query(`DROP ROLE IF EXISTS "${u}"`);
}

function pgSecret(user: string, password: string, dbname: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: db.port, username: user, password, dbname, ...extra });
}

const PG_INSERT = 'INSERT INTO app.events (at) VALUES (now())';

function pgWorkload(pool: ReturnType<typeof createPgPool>): Workload {
  return {
    query: (i) => pool.query(i % 2 ? PG_INSERT : { text: 'INSERT INTO app.events (at) VALUES ($1)', values: [new Date()] }),
    async churn() {
      const client = await pool.connect();
      try {
        await client.query(PG_INSERT);
      } finally {
        client.release(true); // destroyed: the next checkout logs in again
      }
    },
  };
}

describe('createPgPool', () => {
  test(`alternating users: zero failed queries through ${ALTERNATING} rotations`, async (t) => {
    const user = `cp_${uid()}`;
    const dbname = await setupPg(user, 'cp-start-Pw1');
    const defer = deferrer(t);
    defer(() => dropPg(dbname, [user, `${user}_clone`]));
    const master = await sm.send(new CreateSecretCommand({
      Name: `cp-master/${user}`,
      SecretString: JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: db.port, username: db.superuser, password: db.superPassword }),
    }));
    const id = `cp/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: pgSecret(user, 'cp-start-Pw1', dbname, { masterarn: master.ARN }) }));
    const pool = createPgPool({ client: sm, secretId: id, pool: { max: 4, idleTimeoutMillis: 100 } });
    defer(() => pool.end());
    const app = appLoop(pgWorkload(pool));
    const started = performance.now();
    await rotateMany(id, 'SecretsManagerRDSPostgreSQLRotationMultiUser', ALTERNATING);
    await app.stop();
    const elapsed = performance.now() - started;
    const current = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString!).username;
    await pool.end();
    t.diagnostic(describeRun(`pg alternating, ${ALTERNATING} rotations`, app.stats, pool.stats, elapsed));
    assert.equal(app.stats.failed, 0, `failed operations: ${app.stats.errors.join(' | ')}`);
    assert.ok(app.stats.ok > ALTERNATING * 4, `too few operations ran (${app.stats.ok}) to prove anything`);
    assert.equal(current, user, 'after an even number of rotations the original user is current again');
    // Each user's password changes every other rotation: at least one swap per two rotations, and a refresh never came back empty.
    assert.ok(pool.stats.swaps >= ALTERNATING / 2, `only ${pool.stats.swaps} pool swaps`);
    assert.equal(pool.stats.refreshes, pool.stats.swaps);
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM app.events', [], dbname);
    assert.equal(n, app.stats.ok, 'every operation inserted exactly one row');
  });

  test(`single user: zero failed queries through ${SINGLE} rotations (AWSPENDING fall-back)`, async (t) => {
    const user = `cs_${uid()}`;
    const dbname = await setupPg(user, 'cs-start-Pw1');
    const defer = deferrer(t);
    defer(() => dropPg(dbname, [user]));
    const id = `cs/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: pgSecret(user, 'cs-start-Pw1', dbname) }));
    const pool = createPgPool({ client: sm, secretId: id, pool: { max: 4, idleTimeoutMillis: 100 } });
    defer(() => pool.end());
    const app = appLoop(pgWorkload(pool));
    const started = performance.now();
    await rotateMany(id, 'SecretsManagerRDSPostgreSQLRotationSingleUser', SINGLE);
    await app.stop();
    const elapsed = performance.now() - started;
    await pool.end();
    t.diagnostic(describeRun(`pg single user, ${SINGLE} rotations`, app.stats, pool.stats, elapsed));
    assert.equal(app.stats.failed, 0, `failed operations: ${app.stats.errors.join(' | ')}`);
    assert.ok(app.stats.ok > SINGLE * 4, `too few operations ran (${app.stats.ok})`);
    // Every rotation changes the password in use: at least one swap each. (Usually exactly one; but the
    // refresher reads AWSCURRENT and AWSPENDING in two calls, and when the rotation finishes between them
    // a refresh comes back with the failed version, or the next rotation's not yet set AWSPENDING: the
    // retry then refreshes, and swaps, again.)
    assert.ok(pool.stats.swaps >= SINGLE, `only ${pool.stats.swaps} pool swaps`);
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM app.events', [], dbname);
    assert.equal(n, app.stats.ok);
  });

  test('a password that never works fails after the retries with the database error; other errors are not retried', async (t) => {
    const user = `cw_${uid()}`;
    const dbname = await setupPg(user, 'cw-right-Pw1');
    const defer = deferrer(t);
    defer(() => dropPg(dbname, [user]));
    const id = `cw/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: pgSecret(user, 'cw-wrong-Pw1', dbname) }));
    const { client, reads } = countingClient();
    const pool = createPgPool({ client, secretId: id, retries: 2 });
    defer(() => pool.end());
    for (const round of [1, 2]) {
      const started = performance.now();
      await assert.rejects(pool.query('SELECT 1'), (e: { code?: string }) => e.code === '28P01');
      assert.ok(performance.now() - started < 5000, 'gave up quickly');
      assert.deepEqual({ ...pool.stats }, { authFailures: 3 * round, refreshes: 2 * round, swaps: 0 });
      // One AWSCURRENT read to start with, then per refresh: AWSCURRENT, an AWSPENDING that does not
      // exist, and AWSCURRENT once more (a rotation may have finished between the two reads).
      assert.equal(reads.filter((s) => s === 'AWSCURRENT').length, 1 + 4 * round);
    }

    // With the right password in the secret, a query error that is not about authentication passes through at once.
    const good = createPgPool({ client, secretId: `cw-good/${user}`, retries: 2 });
    defer(() => good.end());
    await sm.send(new CreateSecretCommand({ Name: `cw-good/${user}`, SecretString: pgSecret(user, 'cw-right-Pw1', dbname) }));
    await assert.rejects(good.query('SELECT * FROM no_such_table'), (e: { code?: string }) => e.code === '42P01');
    assert.deepEqual({ ...good.stats }, { authFailures: 0, refreshes: 0, swaps: 0 });
  });

  test('concurrent failures: one refresh, one new pool; a checked-out client finishes on the old pool, which then ends', async (t) => {
    const user = `cc_${uid()}`;
    const dbname = await setupPg(user, 'cc-one-Pw1');
    const defer = deferrer(t);
    defer(() => dropPg(dbname, [user]));
    const id = `cc/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: pgSecret(user, 'cc-one-Pw1', dbname) }));
    const { client, reads } = countingClient();
    const pool = createPgPool({ client, secretId: id, pool: { max: 30 } });
    defer(() => pool.end());
    const held = await pool.connect(); // the only connection of the first pool
    defer(async () => held.release()); // (if an assertion failed before its release: pool.end() waits for it)
    const [{ pid }] = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    assert.deepEqual(reads, ['AWSCURRENT']);

    await db.query(`ALTER ROLE "${user}" PASSWORD 'cc-two-Pw1'`);
    await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: pgSecret(user, 'cc-two-Pw1', dbname) }));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.query<{ n: number }>('SELECT $1::int AS n', [i])));
    assert.deepEqual(results.map((r) => r.rows[0].n), Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual({ ...pool.stats }, { authFailures: 20, refreshes: 1, swaps: 1 });
    assert.deepEqual(reads, ['AWSCURRENT', 'AWSCURRENT'], 'one GetSecretValue for 20 refused logins');

    // The old pool waits for its checked-out client; once released, the old pool ends and closes it.
    assert.equal((await held.query('SELECT 1 AS one')).rows[0].one, 1);
    const alive = async () => (await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).length > 0;
    assert.ok(await alive());
    held.release();
    for (let i = 0; (await alive()) && i < 100; i++) await sleep(20);
    assert.equal(await alive(), false, 'the old pool ended after its client was released');
  });
});

// ---- MariaDB ----

describe('createMysqlPool', () => {
  const users: string[] = [];
  const dbs: string[] = [];
  after(async () => {
    await dropMariaUsers(users.flatMap((u) => [u, `${u}_clone`]));
    await dropMariaDatabases(dbs);
  });

  async function setup(prefix: string, password: string, master = false) {
    const user = uniqueName(prefix);
    const dbname = uniqueName(`${prefix}db`);
    users.push(user);
    dbs.push(dbname);
    const root = await mariaRoot();
    try {
      await root.query(`CREATE DATABASE \`${dbname}\``);
      await root.query(`CREATE TABLE \`${dbname}\`.events (id bigint primary key auto_increment, at datetime)`);
      for (const h of ['%', 'localhost']) {
        await root.query(`CREATE USER ?@? IDENTIFIED BY ?`, [user, h, password]);
        await root.query(`GRANT SELECT, INSERT ON \`${dbname}\`.* TO ?@?`, [user, h]);
      }
      if (master) {
        // A master that is not root: root here has no password.
        await root.query(`CREATE USER ?@'%' IDENTIFIED BY 'cp-Master-1'`, [`${user}_m`]);
        await root.query(`GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION`, [`${user}_m`]);
        users.push(`${user}_m`);
      }
    } finally {
      await root.end();
    }
    return { user, dbname };
  }

  const secret = (user: string, password: string, dbname: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port: 3306, username: user, password, dbname, ...extra });

  const INSERT = 'INSERT INTO events (at) VALUES (now())';

  function workload(pool: ReturnType<typeof createMysqlPool>): Workload {
    return {
      query: (i) => (i % 2 ? pool.query(INSERT) : pool.execute('INSERT INTO events (at) VALUES (?)', [new Date()])),
      async churn() {
        const conn = await pool.getConnection();
        try {
          await conn.query(INSERT);
        } finally {
          conn.destroy(); // the next checkout logs in again
        }
      },
    };
  }

  async function countRows(dbname: string): Promise<number> {
    const root = await mariaRoot();
    try {
      const [{ n }] = await root.query<RowDataPacket[]>(`SELECT count(*) AS n FROM \`${dbname}\`.events`);
      return Number(n);
    } finally {
      await root.end();
    }
  }

  const POOL = { connectionLimit: 4, maxIdle: 1, idleTimeout: 100 };

  test(`alternating users: zero failed queries through ${ALTERNATING} rotations`, async (t) => {
    const { user, dbname } = await setup('mp', 'mp-Start-1', true);
    const master = await sm.send(new CreateSecretCommand({
      Name: `mp-master/${user}`,
      SecretString: JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port: 3306, username: `${user}_m`, password: 'cp-Master-1' }),
    }));
    const id = `mp/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secret(user, 'mp-Start-1', dbname, { masterarn: master.ARN }) }));
    const pool = createMysqlPool({ client: sm, secretId: id, pool: POOL });
    deferrer(t)(() => pool.end());
    const app = appLoop(workload(pool));
    const started = performance.now();
    await rotateMany(id, 'SecretsManagerRDSMariaDBRotationMultiUser', ALTERNATING);
    await app.stop();
    const elapsed = performance.now() - started;
    await pool.end();
    t.diagnostic(describeRun(`MariaDB alternating, ${ALTERNATING} rotations`, app.stats, pool.stats, elapsed));
    assert.equal(app.stats.failed, 0, `failed operations: ${app.stats.errors.join(' | ')}`);
    assert.ok(app.stats.ok > ALTERNATING * 4, `too few operations ran (${app.stats.ok})`);
    assert.ok(pool.stats.swaps >= ALTERNATING / 2, `only ${pool.stats.swaps} pool swaps`);
    assert.equal(pool.stats.refreshes, pool.stats.swaps);
    assert.equal(await countRows(dbname), app.stats.ok);
  });

  test(`single user: zero failed queries through ${SINGLE} rotations (AWSPENDING fall-back)`, async (t) => {
    const { user, dbname } = await setup('ms', 'ms-Start-1');
    const id = `ms/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secret(user, 'ms-Start-1', dbname) }));
    const pool = createMysqlPool({ client: sm, secretId: id, pool: POOL });
    deferrer(t)(() => pool.end());
    const app = appLoop(workload(pool));
    const started = performance.now();
    await rotateMany(id, 'SecretsManagerRDSMariaDBRotationSingleUser', SINGLE);
    await app.stop();
    const elapsed = performance.now() - started;
    await pool.end();
    t.diagnostic(describeRun(`MariaDB single user, ${SINGLE} rotations`, app.stats, pool.stats, elapsed));
    assert.equal(app.stats.failed, 0, `failed operations: ${app.stats.errors.join(' | ')}`);
    assert.ok(app.stats.ok > SINGLE * 4, `too few operations ran (${app.stats.ok})`);
    assert.ok(pool.stats.swaps >= SINGLE, `only ${pool.stats.swaps} pool swaps`);
    assert.equal(await countRows(dbname), app.stats.ok);
  });

  test('a password that never works fails after the retries with the database error', async (t) => {
    const { user, dbname } = await setup('mw', 'mw-Right-1');
    const id = `mw/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secret(user, 'mw-Wrong-1', dbname) }));
    const { client, reads } = countingClient();
    const pool = createMysqlPool({ client, secretId: id, pool: { connectionLimit: 2 } }); // default retries: 3
    deferrer(t)(() => pool.end());
    for (const round of [1, 2, 3]) {
      const started = performance.now();
      await assert.rejects(round === 2 ? pool.getConnection() : pool.query('SELECT 1'), (e: { errno?: number }) => e.errno === 1045);
      assert.ok(performance.now() - started < 5000, 'gave up quickly');
      assert.deepEqual({ ...pool.stats }, { authFailures: 4 * round, refreshes: 3 * round, swaps: 0 });
      assert.equal(reads.filter((s) => s === 'AWSCURRENT').length, 1 + 6 * round);
    }
  });

  test('concurrent failures: one refresh, one new pool; a checked-out connection finishes on the old pool, which then ends', async (t) => {
    const { user, dbname } = await setup('mc', 'mc-One-1');
    const id = `mc/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secret(user, 'mc-One-1', dbname) }));
    const { client, reads } = countingClient();
    const pool = createMysqlPool({ client, secretId: id, pool: { connectionLimit: 30 } });
    deferrer(t)(() => pool.end());
    const held = await pool.getConnection();
    deferrer(t)(async () => held.release());
    const [[{ cid }]] = await held.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS cid');

    const root = await mariaRoot();
    try {
      for (const h of ['%', 'localhost']) await root.query('ALTER USER ?@? IDENTIFIED BY ?', [user, h, 'mc-Two-1']);
      await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: secret(user, 'mc-Two-1', dbname) }));
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.query<RowDataPacket[]>('SELECT ? AS n', [i])));
      assert.deepEqual(results.map(([rows]) => Number(rows[0].n)), Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual({ ...pool.stats }, { authFailures: 20, refreshes: 1, swaps: 1 });
      assert.deepEqual(reads, ['AWSCURRENT', 'AWSCURRENT'], 'one GetSecretValue for 20 refused logins');

      // mysql2's own end() would cut the held connection: the rotating pool ends the old pool only after its release.
      const [[{ one }]] = await held.query<RowDataPacket[]>('SELECT 1 AS one');
      assert.equal(Number(one), 1);
      const alive = async () => (await root.query<RowDataPacket[]>('SELECT 1 FROM information_schema.processlist WHERE id = ?', [cid])).length > 0;
      assert.ok(await alive());
      held.release();
      for (let i = 0; (await alive()) && i < 100; i++) await sleep(20);
      assert.equal(await alive(), false, 'the old pool ended after its connection was released');
    } finally {
      await root.end();
    }
  });
});
