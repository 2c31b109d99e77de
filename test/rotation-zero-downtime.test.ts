import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { rotateAndWait } from './helpers/db-rotation.js';
import { CredentialRefresher, isAuthFailure, withCredentialRefresh } from '../src/client/index.js';
import { dropMariaDatabases, dropMariaUsers, mariaRoot, uniqueName } from './helpers/mariadb.js';

/*
 * Applications keep working through rotations: an application loop queries continuously, opening a
 * fresh connection for every query (the hardest case: every query logs in), through 20 rotations in
 * a row. It uses the client library's credential refresher, which re-reads the secret after an
 * authentication failure and retries.
 */

const ROTATIONS = 20;
/**
 * Single user: between two rotations, a pause. A client that was refused reads the secret and logs
 * in again; rotations back to back every ~100 ms on a loaded machine can change the password again
 * before that login, which no real schedule does. Alternating users need no pause.
 */
const SINGLE_USER_PAUSE_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

interface Creds { host: string; port: number; username: string; password: string; dbname?: string }

async function queryOnce(c: Creds & { engine?: string }): Promise<number> {
  if (c.engine === 'mariadb') return mariaQueryOnce(c);
  const client = new pg.Client({ host: c.host, port: c.port, user: c.username, password: c.password, database: c.dbname ?? 'postgres' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('INSERT INTO app.events (at) VALUES (now())');
    const r = await client.query('SELECT count(*)::int AS n FROM app.events');
    return r.rows[0].n as number;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function mariaQueryOnce(c: Creds): Promise<number> {
  const conn = await mysql.createConnection({ host: c.host, port: c.port, user: c.username, password: c.password, database: c.dbname });
  conn.on('error', () => undefined);
  try {
    await conn.query('INSERT INTO events (at) VALUES (now())');
    const [rows] = await conn.query('SELECT count(*) AS n FROM events');
    return Number((rows as { n: number }[])[0].n);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** Runs `workers` query loops until stopped; counts queries that succeeded and failed. */
function appLoop(refresher: CredentialRefresher<Creds>, workers: number, retries = 3) {
  const stats = { ok: 0, failed: 0, refreshes: 0, errors: [] as string[] };
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        await withCredentialRefresh(refresher, async (c) => {
          try {
            return await queryOnce(c);
          } catch (e) {
            if (isAuthFailure(e)) stats.refreshes++;
            throw e;
          }
        }, { retries });
        stats.ok++;
      } catch (e) {
        stats.failed++;
        if (stats.errors.length < 5) stats.errors.push(String((e as Error).message));
      }
    }
  });
  return { stats, stop: async () => { running = false; await Promise.all(loops); } };
}

/** Measures how long the AWSCURRENT credentials alone (no AWSPENDING fall-back) are refused. */
function outageProbe(id: string) {
  const gaps: number[] = [];
  let running = true;
  let downSince: number | undefined;
  const loop = (async () => {
    while (running) {
      const cur = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString!) as Creds;
      try {
        await queryOnce(cur);
        if (downSince !== undefined) gaps.push(performance.now() - downSince);
        downSince = undefined;
      } catch (e) {
        if (!isAuthFailure(e)) throw e;
        downSince ??= performance.now();
      }
    }
  })();
  return { gaps, stop: async () => { running = false; await loop; } };
}

async function setupDatabase(user: string): Promise<string> {
  const dbname = `zd_${uid()}`;
  await db.query(`CREATE ROLE "${user}" LOGIN PASSWORD 'zd-start-Pw1'`);
  await db.query(`CREATE DATABASE "${dbname}"`);
  await db.query(`CREATE SCHEMA app AUTHORIZATION "${user}"`, [], dbname);
  await db.query(`SET ROLE "${user}"; CREATE TABLE app.events (id bigserial PRIMARY KEY, at timestamptz); RESET ROLE`, [], dbname);
  return dbname;
}

describe('zero downtime through 20 rotations in a row', () => {
  test('alternating users: zero failed queries', async (t) => {
    const user = `zd_${uid()}`;
    const dbname = await setupDatabase(user);
    const master = await sm.send(new CreateSecretCommand({
      Name: `master/${user}`,
      SecretString: JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: db.port, username: db.superuser, password: db.superPassword }),
    }));
    const id = `zd/${user}`;
    await sm.send(new CreateSecretCommand({
      Name: id,
      SecretString: JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: db.port, username: user, password: 'zd-start-Pw1', dbname, masterarn: master.ARN }),
    }));
    // Without the AWSPENDING fall-back: alternating users must not need it.
    const app = appLoop(new CredentialRefresher<Creds>({ client: sm, secretId: id, pendingFallback: false }), 4);
    const users: string[] = [];
    const started = performance.now();
    for (let i = 0; i < ROTATIONS; i++) {
      const run = await rotateAndWait(srv, sm, id, i === 0 ? 'SecretsManagerRDSPostgreSQLRotationMultiUser' : undefined);
      assert.equal(run.State, 'succeeded', run.LastError);
      users.push(JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString!).username);
    }
    const elapsed = performance.now() - started;
    await app.stop();
    t.diagnostic(`${ROTATIONS} rotations in ${(elapsed / 1000).toFixed(1)} s; ${app.stats.ok} queries, ${app.stats.failed} failed, ${app.stats.refreshes} refreshed after an authentication failure`);
    assert.equal(app.stats.failed, 0, `failed queries: ${app.stats.errors.join(' | ')}`);
    assert.ok(app.stats.ok > ROTATIONS * 4, `too few queries ran (${app.stats.ok}) to prove anything`);
    assert.deepEqual(users, Array.from({ length: ROTATIONS }, (_, i) => (i % 2 === 0 ? `${user}_clone` : user)));
    // Every query landed: the table holds exactly the rows the loop inserted.
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM app.events', [], dbname);
    assert.equal(n, app.stats.ok);
  });

  test('single user: zero failed queries with the refresher; the bare AWSCURRENT outage is measured', async (t) => {
    const user = `zs_${uid()}`;
    const dbname = await setupDatabase(user);
    const id = `zs/${user}`;
    await sm.send(new CreateSecretCommand({
      Name: id,
      SecretString: JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: db.port, username: user, password: 'zd-start-Pw1', dbname }),
    }));
    const app = appLoop(new CredentialRefresher<Creds>({ client: sm, secretId: id }), 4, 5);
    const probe = outageProbe(id);
    for (let i = 0; i < ROTATIONS; i++) {
      const run = await rotateAndWait(srv, sm, id, i === 0 ? 'SecretsManagerRDSPostgreSQLRotationSingleUser' : undefined);
      assert.equal(run.State, 'succeeded', run.LastError);
      await sleep(SINGLE_USER_PAUSE_MS);
    }
    await app.stop();
    await probe.stop();
    const gaps = probe.gaps;
    const max = gaps.length ? Math.max(...gaps) : 0;
    const mean = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : 0;
    t.diagnostic(
      `single user: ${app.stats.ok} queries, ${app.stats.failed} failed (${app.stats.refreshes} refreshed); ` +
        `an application reading only AWSCURRENT was refused in ${gaps.length} of ${ROTATIONS} rotations, for ${mean.toFixed(1)} ms on average, ${max.toFixed(1)} ms at most`,
    );
    assert.equal(app.stats.failed, 0, `failed queries: ${app.stats.errors.join(' | ')}`);
    assert.ok(app.stats.ok > ROTATIONS * 4);
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM app.events', [], dbname);
    assert.ok(n >= app.stats.ok, 'rows are missing');
  });
});

describe('zero downtime on MariaDB', () => {
  const users: string[] = [];
  const dbs: string[] = [];
  after(async () => {
    await dropMariaUsers(users.flatMap((u) => [u, `${u}_clone`]));
    await dropMariaDatabases(dbs);
  });

  async function setup() {
    const user = uniqueName('zd');
    const dbname = uniqueName('zdb');
    users.push(user);
    dbs.push(dbname);
    const root = await mariaRoot();
    try {
      await root.query(`CREATE DATABASE \`${dbname}\``);
      await root.query(`CREATE TABLE \`${dbname}\`.events (id bigint primary key auto_increment, at datetime)`);
      await root.query(`CREATE USER ?@'%' IDENTIFIED BY 'zd-Start-1'`, [user]);
      await root.query(`CREATE USER ?@'localhost' IDENTIFIED BY 'zd-Start-1'`, [user]);
      for (const h of ['%', 'localhost']) await root.query(`GRANT SELECT, INSERT ON \`${dbname}\`.* TO ?@?`, [user, h]);
      // A master that is not root: root here has no password.
      await root.query(`CREATE USER ?@'%' IDENTIFIED BY 'zd-Master-1'`, [`${user}_m`]);
      await root.query(`GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION`, [`${user}_m`]);
      users.push(`${user}_m`);
    } finally {
      await root.end();
    }
    return { user, dbname };
  }

  test('alternating users: zero failed queries through 20 rotations', async (t) => {
    const { user, dbname } = await setup();
    const master = await sm.send(new CreateSecretCommand({
      Name: `maria-master/${user}`,
      SecretString: JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port: 3306, username: `${user}_m`, password: 'zd-Master-1' }),
    }));
    const id = `maria-zd/${user}`;
    await sm.send(new CreateSecretCommand({
      Name: id,
      SecretString: JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port: 3306, username: user, password: 'zd-Start-1', dbname, masterarn: master.ARN }),
    }));
    const app = appLoop(new CredentialRefresher<Creds>({ client: sm, secretId: id, pendingFallback: false }), 4);
    for (let i = 0; i < ROTATIONS; i++) {
      const run = await rotateAndWait(srv, sm, id, i === 0 ? 'SecretsManagerRDSMariaDBRotationMultiUser' : undefined);
      assert.equal(run.State, 'succeeded', run.LastError);
    }
    await app.stop();
    t.diagnostic(`MariaDB alternating: ${app.stats.ok} queries, ${app.stats.failed} failed, ${app.stats.refreshes} refreshed`);
    assert.equal(app.stats.failed, 0, `failed queries: ${app.stats.errors.join(' | ')}`);
    assert.ok(app.stats.ok > ROTATIONS * 4);
  });

  test('single user: zero failed queries with the refresher', async (t) => {
    const { user, dbname } = await setup();
    const id = `maria-zs/${user}`;
    await sm.send(new CreateSecretCommand({
      Name: id,
      SecretString: JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port: 3306, username: user, password: 'zd-Start-1', dbname }),
    }));
    const app = appLoop(new CredentialRefresher<Creds>({ client: sm, secretId: id }), 4, 5);
    const probe = outageProbe(id);
    for (let i = 0; i < ROTATIONS; i++) {
      const run = await rotateAndWait(srv, sm, id, i === 0 ? 'SecretsManagerRDSMariaDBRotationSingleUser' : undefined);
      assert.equal(run.State, 'succeeded', run.LastError);
      await sleep(SINGLE_USER_PAUSE_MS);
    }
    await app.stop();
    await probe.stop();
    const max = probe.gaps.length ? Math.max(...probe.gaps) : 0;
    t.diagnostic(`MariaDB single user: ${app.stats.ok} queries, ${app.stats.failed} failed; bare AWSCURRENT refused in ${probe.gaps.length} of ${ROTATIONS} rotations, ${max.toFixed(1)} ms at most`);
    assert.equal(app.stats.failed, 0, `failed queries: ${app.stats.errors.join(' | ')}`);
  });
});
