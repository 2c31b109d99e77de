// The database test helpers themselves: a private PostgreSQL cluster where passwords matter (with and
// without TLS), the fault-injecting TCP proxy, the shared MariaDB helpers, and a private mariadbd with
// the simple_password_check plugin.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { dropMariaUsers, mariaCanLogin, mariaRoot, startPrivateMariaDb, uniqueName, ER_NOT_VALID_PASSWORD } from './helpers/mariadb.js';
import { pgCanLogin, pgClient, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

let cluster: PgCluster;

before(async () => {
  cluster = await startPgCluster();
});
after(async () => {
  await cluster?.stop();
});

/** A role name unique to this run. */
function roleName(): string {
  return `r_${randomBytes(5).toString('hex')}`;
}

/** Resolves with 'pending' when `p` has not settled within `ms`. */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([p, pending]);
  } finally {
    clearTimeout(timer);
  }
}

/** An echo server on a free port of 127.0.0.1. */
async function startEcho(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

/** Connects to `port`, sends `text` and resolves with the first reply chunk, or with the error / 'closed'. */
function exchange(port: number, text: string): { socket: Socket; reply: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  const reply = new Promise<string>((resolve) => {
    socket.once('data', (d) => resolve(d.toString()));
    socket.once('error', (e) => resolve(`error:${(e as NodeJS.ErrnoException).code}`));
    socket.once('close', () => resolve('closed'));
  });
  socket.write(text);
  return { socket, reply };
}

test('private PostgreSQL cluster: a wrong password is rejected, the right one accepted', async (t) => {
  const role = roleName();
  await cluster.query(`CREATE ROLE ${role} LOGIN PASSWORD 'right-pw-1'`);
  t.after(() => cluster.query(`DROP ROLE IF EXISTS ${role}`));
  assert.equal(await cluster.canLogin(role, 'right-pw-1'), true);
  assert.equal(await cluster.canLogin(role, 'wrong-pw'), false);
  assert.equal(await cluster.canLogin(role, ''), false);
  assert.equal(await cluster.canLogin('no_such_role', 'x'), false);
  assert.equal(await cluster.canLogin('postgres', 'not-the-password'), false);
  assert.equal(await cluster.canLogin('postgres', cluster.superPassword), true);
  const [{ rolpassword }] = await cluster.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
  assert.match(rolpassword, /^SCRAM-SHA-256\$/);
  const hba = await cluster.query<{ type: string; auth_method: string }>('SELECT type, auth_method FROM pg_hba_file_rules');
  assert.ok(hba.some((r) => r.type === 'host'));
  assert.ok(hba.every((r) => r.auth_method === 'scram-sha-256'), JSON.stringify(hba));
  assert.equal(cluster.host, '127.0.0.1');
  assert.notEqual(cluster.port, 5432);
  assert.ok(existsSync(cluster.dataDir));
  assert.match(cluster.readLog(), /database system is ready/);
  // Another database name is passed through.
  const [{ db }] = await cluster.query<{ db: string }>('SELECT current_database() AS db', [], 'template1');
  assert.equal(db, 'template1');
});

test('private PostgreSQL cluster: preload libraries, and stop() twice removes everything', async () => {
  const c = await startPgCluster({ preloadLibraries: ['passwordcheck'] });
  try {
    const [{ shared_preload_libraries: libs }] = await c.query<{ shared_preload_libraries: string }>('SHOW shared_preload_libraries');
    assert.equal(libs, 'passwordcheck');
    // passwordcheck rejects a password containing the role name.
    await assert.rejects(c.query(`CREATE ROLE weakling LOGIN PASSWORD 'weakling123'`), /password must not contain user name/);
  } finally {
    await c.stop();
    await c.stop();
  }
  assert.equal(existsSync(c.dataDir), false);
  await assert.rejects(c.query('SELECT 1'), /ECONNREFUSED/);
});

test('ssl cluster: the CA verifies the server certificate; without it the connection fails', async (t) => {
  const c = await startPgCluster({ ssl: true });
  t.after(() => c.stop());
  assert.ok(c.caFile && c.caPem);
  assert.equal(readFileSync(c.caFile, 'utf8'), c.caPem);
  assert.match(c.caPem, /BEGIN CERTIFICATE/);
  const login = { port: c.port, user: c.superuser, password: c.superPassword };

  const client = pgClient({ ...login, ssl: { ca: c.caPem, rejectUnauthorized: true } });
  await client.connect();
  try {
    const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    assert.equal(rows[0].ssl, true);
  } finally {
    await client.end();
  }
  await assert.rejects(pgCanLogin({ ...login, ssl: { rejectUnauthorized: true } }), /certificate/i);
  // The host line covers hostssl and plain connections alike, and the password still matters over TLS.
  assert.equal(await pgCanLogin({ ...login, ssl: { ca: c.caPem, rejectUnauthorized: true }, password: 'wrong' }), false);
  assert.equal(await c.canLogin(c.superuser, c.superPassword), true);
});

test('proxy (echo target): pass, refuse, hold, dropAll, close', async (t) => {
  const echo = await startEcho();
  t.after(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));
  const proxy = await startTcpProxy('127.0.0.1', echo.port);
  t.after(() => proxy.close());
  assert.equal(proxy.mode, 'pass');

  const a = exchange(proxy.port, 'hello');
  assert.equal(await a.reply, 'hello');
  const sniffed: string[] = [];
  proxy.onClientData((chunk) => sniffed.push(chunk.toString()));

  proxy.setMode('refuse');
  const b = exchange(proxy.port, 'nope');
  assert.match(await b.reply, /^(error:ECONNRESET|closed)$/);
  // The connection made before still works.
  const again = new Promise<string>((resolve) => a.socket.once('data', (d) => resolve(d.toString())));
  a.socket.write('still');
  assert.equal(await again, 'still');

  proxy.setMode('hold');
  const c = exchange(proxy.port, 'held');
  assert.equal(await settledWithin(c.reply, 300), 'pending');
  proxy.setMode('pass');
  assert.equal(await c.reply, 'held');
  assert.deepEqual(sniffed, ['still', 'held']);
  assert.equal(proxy.connections, 3);

  const closedA = new Promise((resolve) => a.socket.once('close', resolve));
  const closedC = new Promise((resolve) => c.socket.once('close', resolve));
  proxy.dropAll();
  await Promise.all([closedA, closedC]);

  await proxy.close();
  const d = exchange(proxy.port, 'x');
  assert.match(await d.reply, /^error:ECONNREFUSED$/);
});

test('proxy (PostgreSQL target): refuse and hold new logins, the sniffer sees ALTER ROLE, existing sessions carry on', async (t) => {
  const role = roleName();
  await cluster.query(`CREATE ROLE ${role} LOGIN PASSWORD 'old-pw-1'`);
  t.after(() => cluster.query(`DROP ROLE IF EXISTS ${role}`));
  const proxy = await startTcpProxy(cluster.host, cluster.port);
  t.after(() => proxy.close());
  const via = (password: string) => pgCanLogin({ port: proxy.port, user: role, password });

  assert.equal(await via('old-pw-1'), true);
  assert.equal(await via('wrong'), false);

  proxy.setMode('refuse');
  await assert.rejects(via('old-pw-1'), (e: Error & { code?: string }) => e.code === 'ECONNRESET' || /terminated|closed/i.test(e.message));
  proxy.setMode('pass');

  // An admin session through the proxy; the sniffer holds new connections as soon as ALTER ROLE goes by.
  let sawAlter = false;
  proxy.onClientData((chunk) => {
    if (!sawAlter && chunk.includes('ALTER ROLE')) {
      sawAlter = true;
      proxy.setMode('hold');
    }
  });
  const admin = pgClient({ port: proxy.port, user: cluster.superuser, password: cluster.superPassword });
  await admin.connect();
  t.after(() => admin.end().catch(() => undefined));
  await admin.query(`ALTER ROLE ${role} PASSWORD 'new-pw-2'`);
  assert.equal(sawAlter, true);
  assert.equal(proxy.mode, 'hold');

  const held = via('new-pw-2');
  assert.equal(await settledWithin(held, 400), 'pending');
  // The admin session is not affected by the mode.
  const { rows } = await admin.query<{ n: number }>('SELECT 2 AS n');
  assert.equal(rows[0].n, 2);
  proxy.setMode('pass');
  assert.equal(await held, true);
  assert.equal(await via('old-pw-1'), false);

  const adminGone = new Promise((resolve) => admin.once('end', resolve));
  proxy.dropAll();
  await adminGone;
  await assert.rejects(admin.query('SELECT 1'));
});

test('shared MariaDB: create a user, log in with the right password only, drop every host entry', async (t) => {
  const user = uniqueName('helper_test_with_a_long_prefix');
  assert.ok(user.length <= 24, user);
  assert.match(user, /^[a-z0-9_]+$/);
  assert.notEqual(uniqueName('x'), uniqueName('x'));
  t.after(() => dropMariaUsers([user]));
  const root = await mariaRoot();
  try {
    await root.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, 'Right-pw-1']);
    await root.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [user, 'Right-pw-1']);
  } finally {
    await root.end();
  }
  assert.equal(await mariaCanLogin(user, 'Right-pw-1'), true);
  assert.equal(await mariaCanLogin(user, 'wrong'), false);
  assert.equal(await mariaCanLogin(user, ''), false);
  await dropMariaUsers([user]);
  const check = await mariaRoot();
  try {
    const rows = await check.query('SELECT host FROM mysql.user WHERE user = ?', [user]);
    assert.equal(rows.length, 0);
  } finally {
    await check.end();
  }
  assert.equal(await mariaCanLogin(user, 'Right-pw-1'), false);
  await dropMariaUsers([user, 'no_such_user_xyz']); // unknown names are fine
});

test('private MariaDB: simple_password_check rejects a weak password', async (t) => {
  const m = await startPrivateMariaDb();
  t.after(() => m.stop());
  assert.notEqual(m.port, 3306);
  await m.query(`INSTALL SONAME 'simple_password_check'`);
  const plugins = await m.query(`SELECT plugin_status FROM information_schema.plugins WHERE plugin_name = 'simple_password_check'`);
  assert.equal(plugins[0]?.plugin_status, 'ACTIVE');

  await m.query(`CREATE USER 'app'@'%' IDENTIFIED BY 'Strong-Pass-123'`);
  assert.equal(await m.canLogin('app', 'Strong-Pass-123'), true);
  const root = await m.root();
  try {
    // ALTER USER fails with ER_CANNOT_USER (1396); the 1819 is in the diagnostics area.
    await assert.rejects(root.query(`ALTER USER 'app'@'%' IDENTIFIED BY 'weak'`), (e: { errno?: number }) => e.errno === 1396);
    const warnings = await root.query('SHOW WARNINGS');
    assert.ok(warnings.some((w) => w.Code === ER_NOT_VALID_PASSWORD && w.Level === 'Error'), JSON.stringify(warnings));
    // SET PASSWORD and CREATE USER fail with 1819 itself.
    await assert.rejects(root.query(`SET PASSWORD FOR 'app'@'%' = PASSWORD('weak')`), (e: { errno?: number }) => e.errno === ER_NOT_VALID_PASSWORD);
    await assert.rejects(root.query(`CREATE USER 'other'@'%' IDENTIFIED BY 'weak'`), (e: { errno?: number }) => e.errno === ER_NOT_VALID_PASSWORD);
    // A strong one is accepted.
    await root.query(`ALTER USER 'app'@'%' IDENTIFIED BY 'Other-Pass-456'`);
  } finally {
    await root.end();
  }
  assert.equal(await m.canLogin('app', 'Strong-Pass-123'), false);
  assert.equal(await m.canLogin('app', 'Other-Pass-456'), true);
  assert.equal(await m.canLogin('app', 'weak'), false);
});

test('private MariaDB: plugins given at start are loaded, and stop() twice removes everything', async () => {
  const m = await startPrivateMariaDb({ plugins: ['simple_password_check'] });
  try {
    const rows = await m.query(`SELECT plugin_status FROM information_schema.plugins WHERE plugin_name = 'simple_password_check'`);
    assert.equal(rows[0]?.plugin_status, 'ACTIVE');
    await assert.rejects(m.query(`CREATE USER 'x'@'%' IDENTIFIED BY 'weak'`), (e: { errno?: number }) => e.errno === ER_NOT_VALID_PASSWORD);
    assert.match(m.readLog(), /ready for connections/);
  } finally {
    await m.stop();
    await m.stop();
  }
  assert.equal(existsSync(m.dataDir), false);
  await assert.rejects(m.query('SELECT 1'), /ECONNREFUSED/);
});
