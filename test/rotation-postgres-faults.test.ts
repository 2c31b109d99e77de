import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { startPgCluster, freePort, type PgCluster } from './helpers/pg-cluster.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { builtinArn, finishedRun, rotate, rotateAndWait } from './helpers/db-rotation.js';
import { cleanupProcesses, spawnServer, tempDir } from './helpers/process.js';
import { awsCliEnv, runCommand, until } from './helpers/functions.js';
import { builtinFunctionSource } from '../src/rotation/functions/builtin.js';

// Guards, clear failure reasons, TLS, and faults (unreachable database, a server killed mid-run)
// for the built-in PostgreSQL functions, against a private cluster that checks passwords.

let pg: PgCluster;
let srv: TestServer;
let sm: SecretsManagerClient;

before(async () => {
  pg = await startPgCluster();
  srv = await startServer({ rotation: { retryBaseMs: 30, maxAttempts: 2 } });
  sm = srv.client();
});

after(async () => {
  await cleanupProcesses();
  await srv?.stop();
  await pg?.stop();
});

const uid = () => randomBytes(4).toString('hex');
const SINGLE = 'SecretsManagerRDSPostgreSQLRotationSingleUser';
const MULTI = 'SecretsManagerRDSPostgreSQLRotationMultiUser';

async function value(id: string, stage = 'AWSCURRENT', client = sm): Promise<Record<string, any>> {
  return JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: id, VersionStage: stage }))).SecretString!);
}

async function role(password: string): Promise<string> {
  const user = `u_${uid()}`;
  await pg.query(`CREATE ROLE "${user}" LOGIN PASSWORD '${password}'`);
  return user;
}

function json(o: Record<string, unknown>): string {
  return JSON.stringify(o);
}

async function masterArn(): Promise<string> {
  const out = await sm.send(new CreateSecretCommand({
    Name: `master/${uid()}`,
    SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: pg.superuser, password: pg.superPassword }),
  }));
  return out.ARN!;
}

/** A rotation that must fail with `reason`, leaving AWSCURRENT exactly as it was and no AWSPENDING. */
async function failsWith(secretString: string, fn: string, reason: RegExp): Promise<void> {
  const id = `bad/${uid()}`;
  await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretString }));
  const run = await rotateAndWait(srv, sm, id, fn);
  assert.equal(run.State, 'failed');
  assert.match(run.LastError ?? '', reason);
  const cur = await sm.send(new GetSecretValueCommand({ SecretId: id }));
  assert.equal(cur.SecretString, secretString, 'AWSCURRENT changed');
  const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
  assert.ok(!Object.values(d.VersionIdsToStages ?? {}).flat().includes('AWSPENDING'), 'AWSPENDING left behind');
}

describe('the seed command', () => {
  test('aws secretsmanager rotate-secret with the built-in function name works as written', async () => {
    const user = await role('seed-Pw1');
    await sm.send(new CreateSecretCommand({
      Name: 'prod/myapp/database',
      SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: user, password: 'seed-Pw1', dbname: 'postgres' }),
    }));
    const env = awsCliEnv(join(srv.dataDir, 'root-credentials'), srv.dataDir);
    const r = await runCommand('aws', [
      '--endpoint-url', srv.endpoint, '--output', 'json',
      'secretsmanager', 'rotate-secret', '--secret-id', 'prod/myapp/database',
      '--rotation-lambda-arn', 'arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerRDSPostgreSQLRotationSingleUser',
      '--rotation-rules', 'AutomaticallyAfterDays=30',
    ], env, { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const token = JSON.parse(r.stdout).VersionId;
    const run = await finishedRun(srv, 'prod/myapp/database', token);
    assert.equal(run.State, 'succeeded', run.LastError);
    const cur = await value('prod/myapp/database');
    assert.equal(await pg.canLogin(user, cur.password), true);
    assert.equal(await pg.canLogin(user, 'seed-Pw1'), false);
  });
});

describe('a failed run says why at once, and AWSCURRENT keeps working', () => {
  const base = () => ({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: 'nobody', password: 'x' });

  test('not JSON', () => failsWith('just a password', SINGLE, /AWSCURRENT secret is not valid JSON/));
  test('a missing field', () => failsWith(json({ ...base(), host: undefined }), SINGLE, /AWSCURRENT secret has no 'host' field/));
  test('a wrong port', () => failsWith(json({ ...base(), port: 'five' }), SINGLE, /'port' must be a whole number from 1 to 65535/));
  test('an unknown engine', () => failsWith(json({ ...base(), engine: 'oracle' }), SINGLE, /engine 'oracle' is unknown/));
  test('an engine the function does not rotate', () =>
    failsWith(json({ ...base(), engine: 'mysql' }), SINGLE, /engine 'mysql' does not match this function, which rotates postgres/));
  test('an unreachable host', async () => {
    const port = await freePort();
    await failsWith(json({ ...base(), port }), SINGLE, new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port} as 'nobody': connection refused`));
  });
  test('credentials that no longer log in', async () => {
    const user = await role('right-Pw1');
    await failsWith(json({ ...base(), username: user, password: 'wrong' }), SINGLE,
      new RegExp(`cannot log in to PostgreSQL at 127\\.0\\.0\\.1:${pg.port} as '${user}' with the AWSPENDING, AWSCURRENT or AWSPREVIOUS password`));
    assert.equal(await pg.canLogin(user, 'right-Pw1'), true);
  });
  test('alternating users without masterarn', async () => {
    const user = await role('alt-Pw1');
    await failsWith(json({ ...base(), username: user, password: 'alt-Pw1' }), MULTI, /alternating-users rotation needs 'masterarn'/);
  });
  test('alternating users whose AWSCURRENT does not log in: the master credentials are not used', async () => {
    const user = await role('alt-Pw1');
    await failsWith(json({ ...base(), username: user, password: 'wrong', masterarn: await masterArn() }), MULTI,
      new RegExp(`the AWSCURRENT credentials of '${user}' do not log in .*the master credentials are not used`));
    const clone = await pg.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [`${user}_clone`]);
    assert.equal(clone.length, 0, 'the clone was created anyway');
  });
  test('a master secret for another server', async () => {
    const user = await role('alt-Pw1');
    const other = await sm.send(new CreateSecretCommand({
      Name: `master/${uid()}`, SecretString: json({ engine: 'postgres', host: '10.9.8.7', port: pg.port, username: 'postgres', password: 'p' }),
    }));
    await failsWith(json({ ...base(), username: user, password: 'alt-Pw1', masterarn: other.ARN }), MULTI,
      /the master secret names PostgreSQL at 10\.9\.8\.7:\d+, but the secret names PostgreSQL at 127\.0\.0\.1:\d+; refusing/);
  });
  test('a master secret that does not exist', async () => {
    const user = await role('alt-Pw1');
    await failsWith(json({ ...base(), username: user, password: 'alt-Pw1', masterarn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf' }), MULTI,
      /cannot read the master secret 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf': Secrets Manager can't find the specified secret/);
  });
});

describe('guards on the pending version', () => {
  async function invoke(step: 'setSecret', id: string, token: string, strategy = SINGLE) {
    const source = builtinFunctionSource({ ctx: srv.app.ctx, driverOptions: { connectTimeoutMs: 5000 } });
    const fn = await srv.app.ctx.store.read((tx) => source.find(tx, builtinArn(strategy)));
    return fn!.invoke({ Step: step, SecretId: id, ClientRequestToken: token });
  }

  test('a pending username other than the current user is refused (single user), and the other user is untouched', async () => {
    const user = await role('mine-Pw1');
    const id = `guard/${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: user, password: 'mine-Pw1' }) }));
    const token = randomBytes(16).toString('hex');
    await sm.send(new PutSecretValueCommand({
      SecretId: id, ClientRequestToken: token, VersionStages: ['AWSPENDING'],
      SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: pg.superuser, password: 'taken-over' }),
    }));
    const out = await invoke('setSecret', id, token);
    assert.deepEqual(out.ok, false);
    assert.match((out as { error: string }).error, new RegExp(`the AWSPENDING user '${pg.superuser}' is not '${user}'; refusing to change another user's password`));
    assert.equal(await pg.canLogin(pg.superuser, pg.superPassword), true);
  });

  test('alternating: only the current user or its partner may be pending', async () => {
    const user = await role('mine-Pw1');
    const id = `guard/${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: user, password: 'mine-Pw1', masterarn: await masterArn() }) }));
    const token = randomBytes(16).toString('hex');
    await sm.send(new PutSecretValueCommand({
      SecretId: id, ClientRequestToken: token, VersionStages: ['AWSPENDING'],
      SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: pg.superuser, password: 'taken-over' }),
    }));
    const out = await invoke('setSecret', id, token, MULTI);
    assert.match((out as { error: string }).error, new RegExp(`is not '${user}' or '${user}_clone'; refusing`));
    assert.equal(await pg.canLogin(pg.superuser, pg.superPassword), true);
  });

  test('a pending host other than the current one is refused', async () => {
    const user = await role('mine-Pw1');
    const id = `guard/${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: user, password: 'mine-Pw1' }) }));
    const token = randomBytes(16).toString('hex');
    await sm.send(new PutSecretValueCommand({
      SecretId: id, ClientRequestToken: token, VersionStages: ['AWSPENDING'],
      SecretString: json({ engine: 'postgres', host: 'localhost', port: pg.port, username: user, password: 'elsewhere' }),
    }));
    const out = await invoke('setSecret', id, token);
    assert.match((out as { error: string }).error, /AWSPENDING secret names PostgreSQL at localhost:\d+, but AWSCURRENT names PostgreSQL at 127\.0\.0\.1:\d+; refusing/);
    assert.equal(await pg.canLogin(user, 'mine-Pw1'), true);
  });

  test('identifiers are quoted: a user name with quotes and spaces rotates', async () => {
    const user = `we"ird ${uid()}`;
    await pg.query(`CREATE ROLE "${user.replace(/"/g, '""')}" LOGIN PASSWORD 'q-Pw1'`);
    const id = `quoted/${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: user, password: 'q-Pw1', masterarn: await masterArn() }) }));
    const run = await rotateAndWait(srv, sm, id, MULTI);
    assert.equal(run.State, 'succeeded', run.LastError);
    const cur = await value(id);
    assert.equal(cur.username, `${user}_clone`);
    assert.equal(await pg.canLogin(cur.username, cur.password), true);
  });
});

describe('ssl: true means verified TLS', () => {
  let tls: PgCluster;
  before(async () => {
    tls = await startPgCluster({ ssl: true });
    await tls.query('ALTER SYSTEM SET log_connections = on');
    await tls.query('SELECT pg_reload_conf()');
  });
  after(() => tls?.stop());

  async function tlsSecret(ssl: boolean, port = tls.port) {
    const user = `t_${uid()}`;
    await tls.query(`CREATE ROLE "${user}" LOGIN PASSWORD 'tls-Pw1'`);
    const id = `tls/${user}`;
    const text = json({ engine: 'postgres', host: '127.0.0.1', port, username: user, password: 'tls-Pw1', ssl });
    return { user, id, text };
  }

  test('with the CA trusted (LOCKSTEP_DB_CA_FILE) the rotation runs over verified TLS', async () => {
    const trusting = await startServer({ env: { LOCKSTEP_DB_CA_FILE: tls.caFile! }, rotation: { retryBaseMs: 30, maxAttempts: 2 } });
    try {
      const c = trusting.client();
      const { user, id, text } = await tlsSecret(true);
      await c.send(new CreateSecretCommand({ Name: id, SecretString: text }));
      const run = await rotateAndWait(trusting, c, id, SINGLE);
      assert.equal(run.State, 'succeeded', run.LastError);
      // Every connection the rotation made as the user (read before this test connects itself).
      const authorized = tls.readLog().split('\n').filter((l) => l.includes(`connection authorized: user=${user} `));
      assert.ok(authorized.length > 0, 'no connection of the user was logged');
      for (const line of authorized) assert.match(line, /SSL enabled/);
      const cur = await value(id, 'AWSCURRENT', c);
      assert.equal(await tls.canLogin(user, cur.password), true);
    } finally {
      await trusting.stop();
    }
  });

  test('a certificate that does not verify fails the run; there is no fall-back to plaintext', async () => {
    const { user, id, text } = await tlsSecret(true);
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: text }));
    const run = await rotateAndWait(srv, sm, id, SINGLE);
    assert.equal(run.State, 'failed');
    assert.match(run.LastError ?? '', /no verified TLS connection to PostgreSQL at 127\.0\.0\.1:\d+/);
    assert.ok(!tls.readLog().includes(`connection authorized: user=${user} `), 'a connection was made anyway');
    assert.equal(await tls.canLogin(user, 'tls-Pw1'), true);
  });

  test('a server without TLS fails the run', async () => {
    const user = await role('plain-Pw1');
    const id = `tls/${user}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: pg.port, username: user, password: 'plain-Pw1', ssl: true }) }));
    const run = await rotateAndWait(srv, sm, id, SINGLE);
    assert.equal(run.State, 'failed');
    assert.match(run.LastError ?? '', /no verified TLS connection to PostgreSQL .*does not support SSL/);
    assert.equal(await pg.canLogin(user, 'plain-Pw1'), true);
  });
});

describe('faults', () => {
  test('database unreachable during setSecret: AWSCURRENT stays valid, a later retry completes', async () => {
    const proxy = await startTcpProxy('127.0.0.1', pg.port);
    const patient = await startServer({ rotation: { retryBaseMs: 300, maxAttempts: 6 } });
    try {
      const c = patient.client();
      const user = await role('net-Pw1');
      const id = `net/${user}`;
      await c.send(new CreateSecretCommand({ Name: id, SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: proxy.port, username: user, password: 'net-Pw1' }) }));
      proxy.setMode('refuse');
      const token = await rotate(c, id, SINGLE);
      // Wait for a failed setSecret attempt; meanwhile AWSCURRENT is untouched and still logs in.
      await until('a failed setSecret attempt', 15_000, async () => {
        const runs = await patient.app.ctx.store.read(async (tx) => (await import('../src/rotation/history.js')).rotationHistory(
          tx, (await tx.secrets.byName(id))!, 5));
        return runs[0]?.Steps.some((s) => s.Step === 'setSecret' && s.Outcome === 'failed') ? true : undefined;
      });
      assert.equal((await value(id, 'AWSCURRENT', c)).password, 'net-Pw1');
      assert.equal(await pg.canLogin(user, 'net-Pw1'), true);
      proxy.setMode('pass');
      const run = await finishedRun(patient, id, token);
      assert.equal(run.State, 'succeeded', run.LastError);
      assert.match(run.Steps.find((s) => s.Outcome === 'failed')?.Error ?? '', /cannot connect to PostgreSQL at 127\.0\.0\.1:\d+ as/);
      assert.equal(await pg.canLogin(user, (await value(id, 'AWSCURRENT', c)).password), true);
    } finally {
      await patient.stop();
      await proxy.close();
    }
  });

  test('the server killed between setSecret and finishSecret: the resumed run finishes, no password is lost', async () => {
    const proxy = await startTcpProxy('127.0.0.1', pg.port);
    // As soon as the password change goes through, later connections (testSecret's) are held.
    proxy.onClientData((chunk) => {
      if (chunk.includes('ALTER ROLE')) proxy.setMode('hold');
    });
    const dataDir = tempDir('lockstep-pgkill-');
    const env = { LOCKSTEP_ROTATION_LEASE_MS: '1500', LOCKSTEP_ROTATION_TICK_MS: '300', LOCKSTEP_ROTATION_RETRY_BASE_MS: '200' };
    const first = await spawnServer({ dataDir, env });
    try {
      const c = first.client();
      const user = await role('kill-Pw1');
      const id = `kill/${user}`;
      await c.send(new CreateSecretCommand({ Name: id, SecretString: json({ engine: 'postgres', host: '127.0.0.1', port: proxy.port, username: user, password: 'kill-Pw1' }) }));
      const token = await rotate(c, id, SINGLE);
      await until('the proxy holding testSecret', 15_000, () => (proxy.mode === 'hold' ? true : undefined));
      const pending = await value(id, 'AWSPENDING', c);
      await until('the new password in the database', 10_000, async () => ((await pg.canLogin(user, pending.password)) ? true : undefined));
      first.kill('SIGKILL');
      await first.waitExit(10_000);
      assert.equal(await pg.canLogin(user, 'kill-Pw1'), false, 'the old password still works: the kill landed too early');
      proxy.dropAll();
      proxy.setMode('pass');
      const second = await spawnServer({ dataDir, env });
      const c2 = second.client();
      // The resumed run has finished once AWSCURRENT is on its token.
      await until('the resumed run to finish', 30_000, async () =>
        (await c2.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages?.[token]?.includes('AWSCURRENT') ? true : undefined);
      const cur = await value(id, 'AWSCURRENT', c2);
      assert.equal(cur.password, pending.password, 'the password set before the kill is the one kept');
      assert.equal(await pg.canLogin(user, cur.password), true);
      assert.equal((await value(id, 'AWSPREVIOUS', c2)).password, 'kill-Pw1');
      await second.stop();
      // Neither password reached either server's output.
      for (const out of [first.stdout(), first.stderr(), second.stdout(), second.stderr()]) {
        assert.ok(!out.includes(cur.password) && !out.includes('kill-Pw1'), 'a password appears in the server output');
      }
    } finally {
      await proxy.close();
    }
  });
});
