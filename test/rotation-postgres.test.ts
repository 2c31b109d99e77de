import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { rotateAndWait } from './helpers/db-rotation.js';

// Built-in PostgreSQL rotation against a private cluster that checks passwords (scram-sha-256).

let pg: PgCluster;
let srv: TestServer;
let sm: SecretsManagerClient;

before(async () => {
  pg = await startPgCluster();
  await pg.query("ALTER SYSTEM SET log_statement = 'all'");
  await pg.query('SELECT pg_reload_conf()');
  srv = await startServer({ rotation: { retryBaseMs: 50, maxAttempts: 3 } });
  sm = srv.client();
});

after(async () => {
  await srv?.stop();
  await pg?.stop();
});

const uid = () => randomBytes(4).toString('hex');

async function value(id: string, stage = 'AWSCURRENT'): Promise<Record<string, any>> {
  const out = await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: stage }));
  return JSON.parse(out.SecretString!);
}

async function createRole(name: string, password: string, extra = ''): Promise<void> {
  await pg.query(`CREATE ROLE "${name}" LOGIN PASSWORD '${password}' ${extra}`);
}

function secretOf(username: string, password: string, more: Record<string, unknown> = {}): string {
  return JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username, password, dbname: 'postgres', ...more });
}

describe('single user', () => {
  test('rotates the password in place: new logs in, old is refused, plaintext never reaches the log', async () => {
    const user = `app_${uid()}`;
    await createRole(user, 'initial-Pw1');
    const id = `db/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretOf(user, 'initial-Pw1') }));
    const run = await rotateAndWait(srv, sm, id, 'SecretsManagerRDSPostgreSQLRotationSingleUser');
    assert.equal(run.State, 'succeeded', run.LastError);
    const cur = await value(id);
    const prev = await value(id, 'AWSPREVIOUS');
    assert.equal(cur.username, user);
    assert.equal(prev.password, 'initial-Pw1');
    assert.notEqual(cur.password, 'initial-Pw1');
    assert.equal(cur.password.length, 32);
    assert.doesNotMatch(cur.password, /[/@"'\\]/);
    assert.equal(await pg.canLogin(user, cur.password), true);
    assert.equal(await pg.canLogin(user, 'initial-Pw1'), false);
    const log = pg.readLog();
    assert.ok(!log.includes(cur.password), 'the new password appears in the server log');
    assert.match(log, /ALTER ROLE CURRENT_USER PASSWORD 'SCRAM-SHA-256\$4096:/);
    // Other keys of the secret are kept as they were.
    assert.equal(cur.dbname, 'postgres');
    assert.equal(cur.port, pg.port);
  });

  test('a second rotation changes it again; AWSPREVIOUS holds the first rotated password', async () => {
    const user = `app_${uid()}`;
    await createRole(user, 'first-Pw1');
    const id = `db/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretOf(user, 'first-Pw1') }));
    assert.equal((await rotateAndWait(srv, sm, id, 'SecretsManagerRDSPostgreSQLRotationSingleUser')).State, 'succeeded');
    const one = await value(id);
    assert.equal((await rotateAndWait(srv, sm, id)).State, 'succeeded');
    const two = await value(id);
    assert.notEqual(two.password, one.password);
    assert.equal((await value(id, 'AWSPREVIOUS')).password, one.password);
    assert.equal(await pg.canLogin(user, two.password), true);
    assert.equal(await pg.canLogin(user, one.password), false);
  });
});

describe('alternating users', () => {
  async function setup() {
    const user = `app_${uid()}`;
    const db = `db_${uid()}`;
    await createRole(user, 'start-Pw1');
    await pg.query(`CREATE DATABASE "${db}"`);
    await pg.query(`CREATE SCHEMA shop AUTHORIZATION "${user}"`, [], db);
    await pg.query(`CREATE TABLE shop.orders (id serial PRIMARY KEY, item text)`, [], db);
    await pg.query(`ALTER TABLE shop.orders OWNER TO "${user}"`, [], db);
    await pg.query(`CREATE TABLE public.prices (id int, price int)`, [], db);
    await pg.query(`GRANT SELECT, UPDATE (price) ON public.prices TO "${user}"`, [], db);
    await pg.query(`ALTER ROLE "${user}" SET search_path = shop, public`);
    const masterId = `master/${user}`;
    await sm.send(
      new CreateSecretCommand({
        Name: masterId,
        SecretString: JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: pg.superuser, password: pg.superPassword }),
      }),
    );
    const master = await sm.send(new GetSecretValueCommand({ SecretId: masterId }));
    const id = `app/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretOf(user, 'start-Pw1', { dbname: db, masterarn: master.ARN }) }));
    return { user, db, id };
  }

  test('creates the clone, then takes turns; the user left keeps working until its next turn', async () => {
    const { user, db, id } = await setup();
    const first = await rotateAndWait(srv, sm, id, 'SecretsManagerRDSPostgreSQLRotationMultiUser');
    assert.equal(first.State, 'succeeded', first.LastError);
    const c1 = await value(id);
    assert.equal(c1.username, `${user}_clone`);
    assert.equal(c1.dbname, db);
    assert.equal(await pg.canLogin(`${user}_clone`, c1.password, db), true);
    assert.equal(await pg.canLogin(user, 'start-Pw1', db), true, 'the original keeps its password');
    // The clone reads and writes what the original can, and has its settings.
    const rows = await pg.query(
      `SELECT has_table_privilege('${user}_clone', 'shop.orders', 'INSERT') AS ins,
              has_column_privilege('${user}_clone', 'public.prices', 'price', 'UPDATE') AS upd,
              has_column_privilege('${user}_clone', 'public.prices', 'id', 'UPDATE') AS upd_id`,
      [],
      db,
    );
    assert.deepEqual(rows[0], { ins: true, upd: true, upd_id: false });
    const settings = await pg.query(
      `SELECT unnest(setconfig) AS s FROM pg_db_role_setting WHERE setrole = '${user}_clone'::regrole`,
    );
    assert.deepEqual(settings.map((r) => r.s), ['search_path=shop, public']);

    const second = await rotateAndWait(srv, sm, id);
    assert.equal(second.State, 'succeeded', second.LastError);
    const c2 = await value(id);
    assert.equal(c2.username, user);
    assert.notEqual(c2.password, 'start-Pw1');
    assert.equal(await pg.canLogin(user, c2.password, db), true);
    assert.equal(await pg.canLogin(user, 'start-Pw1', db), false);
    assert.equal(await pg.canLogin(`${user}_clone`, c1.password, db), true, 'AWSPREVIOUS still logs in');
    assert.equal((await value(id, 'AWSPREVIOUS')).username, `${user}_clone`);
  });

  test('re-synchronises privileges on every rotation, and objects made by either user stay usable by both', async () => {
    const { user, db, id } = await setup();
    assert.equal((await rotateAndWait(srv, sm, id, 'SecretsManagerRDSPostgreSQLRotationMultiUser')).State, 'succeeded');
    const clone = `${user}_clone`;
    // The operator changes the original's privileges; the clone (now current) creates a table.
    await pg.query(`CREATE TABLE public.audit (id int)`, [], db);
    await pg.query(`GRANT INSERT ON public.audit TO "${user}"`, [], db);
    await pg.query(`REVOKE UPDATE (price) ON public.prices FROM "${user}"`, [], db);
    await pg.query(`CREATE ROLE "rep_${user}" NOLOGIN`);
    await pg.query(`GRANT "rep_${user}" TO "${user}"`);
    await pg.query(`SET ROLE "${clone}"; CREATE TABLE shop.made_by_clone (x int); RESET ROLE`, [], db);
    await pg.query(`GRANT SELECT ON public.prices TO "${clone}"`, [], db); // drift: a grant only the clone has
    await pg.query(`GRANT DELETE ON public.prices TO "${clone}"`, [], db);

    const run = await rotateAndWait(srv, sm, id);
    assert.equal(run.State, 'succeeded', run.LastError);
    assert.equal((await value(id)).username, user);
    const [r] = await pg.query(
      `SELECT has_table_privilege('${clone}', 'public.audit', 'INSERT') AS audit_ins,
              has_column_privilege('${clone}', 'public.prices', 'price', 'UPDATE') AS price_upd,
              has_table_privilege('${clone}', 'public.prices', 'DELETE') AS price_del,
              has_table_privilege('${clone}', 'public.prices', 'SELECT') AS price_sel,
              pg_has_role('${clone}', 'rep_${user}', 'USAGE') AS member,
              has_table_privilege('${user}', 'shop.made_by_clone', 'SELECT') AS orig_reads_clone_table`,
      [],
      db,
    );
    assert.deepEqual(r, { audit_ins: true, price_upd: false, price_del: false, price_sel: true, member: true, orig_reads_clone_table: true });
    // A table the original creates now is usable by the clone at once (default privileges both ways).
    await pg.query(`SET ROLE "${user}"; CREATE TABLE shop.later (x int); RESET ROLE`, [], db);
    const [later] = await pg.query(`SELECT has_table_privilege('${clone}', 'shop.later', 'INSERT') AS ok`, [], db);
    assert.equal(later.ok, true);
    await pg.query(`DROP OWNED BY "rep_${user}"; DROP ROLE "rep_${user}"`).catch(() => undefined);
  });

  test('accepts a pair the operator created beforehand (username + alternateUsername)', async () => {
    const a = `blue_${uid()}`;
    const b = `green_${uid()}`;
    await createRole(a, 'blue-Pw1');
    await createRole(b, 'green-Pw1');
    const masterId = `master/${a}`;
    await sm.send(new CreateSecretCommand({
      Name: masterId,
      SecretString: JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: pg.superuser, password: pg.superPassword }),
    }));
    const masterArn = (await sm.send(new GetSecretValueCommand({ SecretId: masterId }))).ARN;
    const id = `pair/${a}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretOf(a, 'blue-Pw1', { alternateUsername: b, masterarn: masterArn }) }));
    assert.equal((await rotateAndWait(srv, sm, id, 'SecretsManagerRDSPostgreSQLRotationMultiUser')).State, 'succeeded');
    const one = await value(id);
    assert.deepEqual([one.username, one.alternateUsername], [b, a]);
    assert.equal(await pg.canLogin(b, one.password), true);
    assert.equal(await pg.canLogin(a, 'blue-Pw1'), true);
    assert.equal((await rotateAndWait(srv, sm, id)).State, 'succeeded');
    const two = await value(id);
    assert.deepEqual([two.username, two.alternateUsername], [a, b]);
    assert.equal(await pg.canLogin(a, two.password), true);
    assert.equal(await pg.canLogin(a, 'blue-Pw1'), false);
    const roles = await pg.query(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE '%_clone' AND rolname LIKE $1`, [`%${a}%`]);
    assert.equal(roles[0].n, 0, 'no clone is created for an operator-made pair');
  });
});

