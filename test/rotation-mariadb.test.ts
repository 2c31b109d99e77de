import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RowDataPacket } from 'mysql2/promise';
import { startServer, type TestServer } from './helpers/server.js';
import { freePort } from './helpers/pg-cluster.js';
import { finishedRun, rotate, rotateAndWait } from './helpers/db-rotation.js';
import {
  dropMariaDatabases, dropMariaUsers, mariaCanLogin, mariaRoot, startPrivateMariaDb, uniqueName, type MariaClient,
} from './helpers/mariadb.js';
import { until } from './helpers/functions.js';

// Built-in MySQL/MariaDB rotation against the machine's MariaDB (which checks passwords), each test
// with its own users and databases; and a private MariaDB with a password policy.

let srv: TestServer;
let sm: SecretsManagerClient;
let root: MariaClient;
const users: string[] = [];
const databases: string[] = [];

before(async () => {
  srv = await startServer({ rotation: { retryBaseMs: 30, maxAttempts: 2 } });
  sm = srv.client();
  root = await mariaRoot();
});

after(async () => {
  await dropMariaUsers(users.flatMap((u) => [u, `${u}_clone`]));
  await dropMariaDatabases(databases);
  await root?.end();
  await srv?.stop();
});

async function value(id: string, stage = 'AWSCURRENT', client = sm): Promise<Record<string, any>> {
  return JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: id, VersionStage: stage }))).SecretString!);
}

async function newUser(password: string, hosts = ['%']): Promise<string> {
  const user = uniqueName('app');
  users.push(user);
  for (const h of hosts) await root.query('CREATE USER ?@? IDENTIFIED BY ?', [user, h, password]);
  return user;
}

async function newDatabase(): Promise<string> {
  const db = uniqueName('shop');
  databases.push(db);
  await root.query(`CREATE DATABASE \`${db}\``);
  await root.query(`CREATE TABLE \`${db}\`.orders (id int primary key auto_increment, item text, price int)`);
  await root.query(`CREATE TABLE \`${db}\`.audit (id int)`);
  return db;
}

let masterArn: string | undefined;
async function master(): Promise<string> {
  masterArn ??= (await sm.send(new CreateSecretCommand({
    Name: 'maria/master', SecretString: JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port: 3306, username: 'root', password: '' }),
  }))).ARN!;
  return masterArn;
}

function secret(user: string, password: string, more: Record<string, unknown> = {}): string {
  return JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port: 3306, username: user, password, ...more });
}

async function grantsOf(user: string, host: string): Promise<string[]> {
  const rows = await root.query<RowDataPacket[]>('SHOW GRANTS FOR ?@?', [user, host]);
  return rows.map((r) => String(Object.values(r)[0]).replace(/IDENTIFIED BY PASSWORD '[^']*'/, '').replaceAll(`\`${user}\``, '`U`'));
}

describe('single user', () => {
  test('rotates the password: the new one logs in, the old one is refused', async () => {
    const user = await newUser('maria-Start1');
    const id = `maria/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secret(user, 'maria-Start1') }));
    const run = await rotateAndWait(srv, sm, id, 'SecretsManagerRDSMariaDBRotationSingleUser');
    assert.equal(run.State, 'succeeded', run.LastError);
    const cur = await value(id);
    assert.notEqual(cur.password, 'maria-Start1');
    assert.doesNotMatch(cur.password, /[/@"'\\]/);
    assert.equal(await mariaCanLogin(user, cur.password), true);
    assert.equal(await mariaCanLogin(user, 'maria-Start1'), false);
    assert.equal((await value(id, 'AWSPREVIOUS')).password, 'maria-Start1');
  });

  test('the MySQL function rotates a MariaDB server too (engine mysql)', async () => {
    const user = await newUser('mysql-Start1');
    const id = `mysql/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: JSON.stringify({ engine: 'mysql', host: '127.0.0.1', username: user, password: 'mysql-Start1' }) }));
    const run = await rotateAndWait(srv, sm, id, 'SecretsManagerRDSMySQLRotationSingleUser');
    assert.equal(run.State, 'succeeded', run.LastError);
    assert.equal(await mariaCanLogin(user, (await value(id)).password), true);
  });

  test('an unreachable server fails the run with a reason, AWSCURRENT untouched', async () => {
    const port = await freePort();
    const id = `maria/unreachable-${port}`;
    const text = JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port, username: 'someone', password: 'pw-Unreach1' });
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: text }));
    const run = await rotateAndWait(srv, sm, id, 'SecretsManagerRDSMariaDBRotationSingleUser');
    assert.equal(run.State, 'failed');
    assert.match(run.LastError ?? '', new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString, text);
  });
});

describe('alternating users', () => {
  test('clones every host entry with its grants and TLS requirement, takes turns, and keeps grants in step', async () => {
    const db = await newDatabase();
    const user = await newUser('alt-Start1', ['%', 'localhost', '10.1.%']);
    await root.query(`ALTER USER ?@'10.1.%' REQUIRE SSL`, [user]);
    await root.query(`GRANT SELECT, INSERT ON \`${db}\`.* TO ?@'%'`, [user]);
    await root.query(`GRANT SELECT, INSERT ON \`${db}\`.* TO ?@'localhost'`, [user]);
    await root.query(`GRANT UPDATE (price) ON \`${db}\`.orders TO ?@'localhost' WITH GRANT OPTION`, [user]);
    const id = `maria-alt/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secret(user, 'alt-Start1', { dbname: db, masterarn: await master() }) }));

    const first = await rotateAndWait(srv, sm, id, 'SecretsManagerRDSMariaDBRotationMultiUser');
    assert.equal(first.State, 'succeeded', first.LastError);
    const c1 = await value(id);
    const clone = `${user}_clone`;
    assert.equal(c1.username, clone);
    assert.equal(await mariaCanLogin(clone, c1.password, { database: db }), true);
    assert.equal(await mariaCanLogin(user, 'alt-Start1', { database: db }), true, 'the original keeps its password');
    const hosts = (await root.query<RowDataPacket[]>('SELECT Host AS host FROM mysql.user WHERE User = ? ORDER BY Host', [clone])).map((r) => r.host);
    assert.deepEqual(hosts, ['%', '10.1.%', 'localhost']);
    for (const h of hosts) assert.deepEqual(await grantsOf(clone, h), await grantsOf(user, h), `grants of ${clone}@${h}`);
    const [create] = await root.query<RowDataPacket[]>(`SHOW CREATE USER ?@'10.1.%'`, [clone]);
    assert.match(String(Object.values(create)[0]), /REQUIRE SSL/);

    // The operator changes the original's grants and host entries; the next rotations follow.
    await root.query(`GRANT DELETE ON \`${db}\`.audit TO ?@'%'`, [user]);
    await root.query(`REVOKE INSERT ON \`${db}\`.* FROM ?@'localhost'`, [user]);
    await root.query(`DROP USER ?@'10.1.%'`, [user]);
    await root.query(`CREATE USER ?@'192.168.%' IDENTIFIED BY 'whatever-Pw1'`, [user]);
    await root.query(`GRANT SELECT ON \`${db}\`.orders TO ?@'192.168.%'`, [user]);
    const second = await rotateAndWait(srv, sm, id);
    assert.equal(second.State, 'succeeded', second.LastError);
    const c2 = await value(id);
    assert.equal(c2.username, user);
    assert.equal(await mariaCanLogin(user, c2.password, { database: db }), true);
    assert.equal(await mariaCanLogin(user, 'alt-Start1', { database: db }), false);
    assert.equal(await mariaCanLogin(clone, c1.password, { database: db }), true, 'AWSPREVIOUS still logs in');
    const hosts2 = (await root.query<RowDataPacket[]>('SELECT Host AS host FROM mysql.user WHERE User = ? ORDER BY Host', [clone])).map((r) => r.host);
    assert.deepEqual(hosts2, ['%', '192.168.%', 'localhost']);
    for (const h of hosts2) assert.deepEqual(await grantsOf(clone, h), await grantsOf(user, h), `grants of ${clone}@${h} after the change`);

    const third = await rotateAndWait(srv, sm, id);
    assert.equal(third.State, 'succeeded', third.LastError);
    assert.equal((await value(id)).username, clone);
  });

  test('accepts a pair the operator created beforehand', async () => {
    const a = await newUser('blue-Start1');
    const b = await newUser('green-Start1');
    const id = `maria-pair/${a}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secret(a, 'blue-Start1', { alternateUsername: b, masterarn: await master() }) }));
    assert.equal((await rotateAndWait(srv, sm, id, 'SecretsManagerRDSMariaDBRotationMultiUser')).State, 'succeeded');
    const one = await value(id);
    assert.deepEqual([one.username, one.alternateUsername], [b, a]);
    assert.equal(await mariaCanLogin(b, one.password), true);
    const clones = await root.query<RowDataPacket[]>('SELECT 1 FROM mysql.user WHERE User IN (?, ?)', [`${a}_clone`, `${b}_clone`]);
    assert.equal(clones.length, 0);
  });
});

describe('the database refuses the new password', () => {
  test('the next attempt uses a fresh password', async () => {
    const maria = await startPrivateMariaDb({ plugins: ['simple_password_check'], args: ['--simple-password-check-minimal-length=100'] });
    const patient = await startServer({ rotation: { retryBaseMs: 300, maxAttempts: 6 } });
    try {
      const c = patient.client();
      await maria.query(`CREATE USER 'policy'@'%' IDENTIFIED BY 'Policy-Start-1'`).catch(async () => {
        // The policy applies to this statement too: create the user while it is relaxed.
        await maria.query('SET GLOBAL simple_password_check_minimal_length = 8');
        await maria.query(`CREATE USER 'policy'@'%' IDENTIFIED BY 'Policy-Start-1'`);
        await maria.query('SET GLOBAL simple_password_check_minimal_length = 100');
      });
      const id = 'policy/db';
      await c.send(new CreateSecretCommand({
        Name: id, SecretString: JSON.stringify({ engine: 'mariadb', host: '127.0.0.1', port: maria.port, username: 'policy', password: 'Policy-Start-1' }),
      }));
      const token = await rotate(c, id, 'SecretsManagerRDSMariaDBRotationSingleUser');
      // The first pending password, if the test reads it before the refusal discards it (under load
      // the refusal can come first; the steps below still show a second createSecret).
      const firstPending = await value(id, 'AWSPENDING', c).then(
        (v) => v.password as string,
        (e: Error) => {
          if (e.name !== 'ResourceNotFoundException') throw e;
          return undefined;
        },
      );
      // Wait for the refusal, then relax the policy so that a password of 32 characters passes.
      await until('a refused setSecret', 15_000, async () => {
        const runs = await patient.app.ctx.store.read(async (tx) =>
          (await import('../src/rotation/history.js')).rotationHistory(tx, (await tx.secrets.byName(id))!, 5));
        return runs[0]?.Steps.some((s) => s.Step === 'setSecret' && s.Outcome === 'failed') ? runs[0] : undefined;
      });
      await maria.query('SET GLOBAL simple_password_check_minimal_length = 8');
      const run = await finishedRun(patient, id, token);
      assert.equal(run.State, 'succeeded', run.LastError);
      const refused = run.Steps.find((s) => s.Step === 'setSecret' && s.Outcome === 'failed');
      assert.match(refused?.Error ?? '', /refused the new password.*the next attempt uses a fresh password/);
      const steps = run.Steps.map((s) => `${s.Step}:${s.Outcome}`);
      assert.deepEqual(steps.slice(0, 3), ['createSecret:succeeded', 'setSecret:failed', 'createSecret:succeeded']);
      const cur = await value(id, 'AWSCURRENT', c);
      if (firstPending !== undefined) assert.notEqual(cur.password, firstPending, 'the refused password was used again');
      assert.equal(await maria.canLogin('policy', cur.password), true);
      assert.equal(await maria.canLogin('policy', 'Policy-Start-1'), false);
    } finally {
      await patient.stop();
      await maria.stop();
    }
  });
});
