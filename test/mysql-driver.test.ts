import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mysqlDriver } from '../src/rotation/rotators/mysql.js';
import { DbError, type DbCredentials, type DbFailureKind, type DbSession } from '../src/rotation/rotators/types.js';

/*
 * The MySQL driver against the machine's shared MariaDB (127.0.0.1:3306, root with an empty
 * password, skip_name_resolve on: a TCP login from 127.0.0.1 matches a '%' entry, never 'localhost').
 * Every test makes its own uniquely named users, roles and databases and drops them afterwards.
 * Verified TLS is proven against a private MariaDB started with a throw-away CA (see the last suite).
 */

const driver = mysqlDriver({ connectTimeoutMs: 5000 });
const creds = (username: string, password: string, more: Partial<DbCredentials> = {}): DbCredentials => ({
  engine: 'mariadb', host: '127.0.0.1', port: 3306, username, password, ssl: false, ...more,
});
const uid = () => 'lsd_' + randomBytes(4).toString('hex');
const str = (s: string) => "'" + s.replaceAll('\\', '\\\\').replaceAll("'", "''") + "'";
const ident = (s: string) => '`' + s.replaceAll('`', '``') + '`';
const acct = (u: string, h: string) => `${str(u)}@${str(h)}`;

let root: DbSession;
before(async () => {
  root = await driver.connect(creds('root', ''));
});
after(() => root.close());

/** Drops, after the test, every host entry of `users`, the roles and the databases. */
function cleanup(t: TestContext | { after: (fn: () => Promise<void>) => void }, what: { users?: string[]; roles?: string[]; dbs?: string[] }) {
  t.after(async () => {
    for (const u of what.users ?? []) {
      for (const r of await root.query("SELECT Host AS h FROM mysql.user WHERE User = ? AND CAST(is_role AS BINARY) = 'N'", [u])) await root.query(`DROP USER ${acct(u, r.h)}`);
    }
    for (const r of what.roles ?? []) await root.query(`DROP ROLE IF EXISTS ${ident(r)}`);
    for (const d of what.dbs ?? []) await root.query(`DROP DATABASE IF EXISTS ${ident(d)}`);
  });
}

async function rejectsWith(p: Promise<unknown>, kind: DbFailureKind, message?: RegExp, secret?: string): Promise<DbError> {
  const e = await p.then(() => assert.fail(`expected a DbError '${kind}'`), (x: unknown) => x);
  assert.ok(e instanceof DbError, `not a DbError: ${e}`);
  assert.equal(e.kind, kind, e.message);
  if (message) assert.match(e.message, message);
  if (secret) assert.ok(!e.message.includes(secret), `the message reveals the password: ${e.message}`);
  return e;
}

async function canLogin(user: string, password: string, more: Partial<DbCredentials> = {}): Promise<void> {
  const s = await driver.connect(creds(user, password, more));
  try {
    await driver.probe(s);
  } finally {
    await s.close();
  }
}

const hostsOf = async (u: string) => (await root.query("SELECT Host AS h FROM mysql.user WHERE User = ? AND CAST(is_role AS BINARY) = 'N' ORDER BY Host", [u])).map((r) => r.h);
const createUser = async (u: string, h: string) => String(Object.values((await root.query(`SHOW CREATE USER ${acct(u, h)}`))[0])[0]);
/** SHOW GRANTS of u@h with the account name and password hash taken out, to compare two users independently of the driver. */
async function grantLines(u: string, h: string): Promise<string[]> {
  const rows = await root.query(`SHOW GRANTS FOR ${acct(u, h)}`);
  return rows
    .map((r) => String(Object.values(r)[0]).split(` TO ${ident(u)}@${ident(h)}`).join(' TO <user>').split(` FOR ${ident(u)}@${ident(h)}`).join(' FOR <user>'))
    .map((l) => l.replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''))
    .sort();
}

describe('connect', () => {
  test('the right password opens a session; a wrong one is an auth failure naming neither password', async (t) => {
    const u = uid();
    cleanup(t, { users: [u] });
    await root.query(`CREATE USER ${acct(u, '%')} IDENTIFIED BY 'right-pw-1'`);
    const s = await driver.connect(creds(u, 'right-pw-1'));
    assert.deepEqual(await s.query('SELECT ? + 1 AS two, CURRENT_USER() AS cu', [1]), [{ two: 2, cu: `${u}@%` }]);
    await driver.probe(s);
    await s.close();
    await rejectsWith(driver.connect(creds(u, 'wrong-pw-1')), 'auth', new RegExp(`^MySQL refused the password for '${u}' at 127.0.0.1:3306$`), 'wrong-pw-1');
  });

  test('a closed port and an unknown host are unreachable', async () => {
    const port = await freePort();
    await rejectsWith(driver.connect(creds('app', 'pw', { port })), 'unreachable', new RegExp(`^cannot connect to MySQL at 127.0.0.1:${port} as 'app': connection refused$`));
    await rejectsWith(driver.connect(creds('app', 'pw', { host: 'no-such-host.invalid' })), 'unreachable', /host name/);
  });

  test('ssl: true never falls back to plaintext; a REQUIRE SSL account cannot log in over plaintext', async (t) => {
    const [row] = await root.query("SHOW VARIABLES LIKE 'have_ssl'");
    const haveSsl = row?.Value === 'YES';
    t.diagnostic(`shared MariaDB have_ssl = ${row?.Value}`);
    if (!haveSsl) {
      await rejectsWith(driver.connect(creds('root', '', { ssl: true })), 'unreachable', /does not offer TLS/);
    } else {
      // With TLS on but a certificate Node does not trust, the connection must fail; a trusted one must be encrypted.
      const s = await driver.connect(creds('root', '', { ssl: true })).catch((e: DbError) => (assert.equal(e.kind, 'unreachable'), undefined));
      if (s) {
        assert.notEqual((await s.query("SHOW STATUS LIKE 'Ssl_cipher'"))[0].Value, '');
        await s.close();
      }
    }
    const u = uid();
    cleanup(t, { users: [u] });
    await root.query(`CREATE USER ${acct(u, '%')} IDENTIFIED BY 'tls-only-pw' REQUIRE SSL`);
    await rejectsWith(driver.connect(creds(u, 'tls-only-pw')), 'auth', /refused the password/, 'tls-only-pw');
  });
});

describe('passwords', () => {
  test('setOwnPassword changes the host entry the session matched, without any privilege', async (t) => {
    const u = uid();
    cleanup(t, { users: [u] });
    for (const h of ['%', 'localhost']) await root.query(`CREATE USER ${acct(u, h)} IDENTIFIED BY 'old-pw-1'`);
    const localBefore = await createUser(u, 'localhost');
    const s = await driver.connect(creds(u, 'old-pw-1'));
    await driver.setOwnPassword(s, creds(u, 'old-pw-1'), "new'pw?\\2");
    await s.close();
    await rejectsWith(driver.connect(creds(u, 'old-pw-1')), 'auth');
    await canLogin(u, "new'pw?\\2");
    assert.equal(await createUser(u, 'localhost'), localBefore, 'the localhost entry must keep its password');
  });

  test('setPassword changes every host entry; userExists sees users, not roles', async (t) => {
    const u = uid();
    const role = uid();
    cleanup(t, { users: [u], roles: [role] });
    await root.query(`CREATE ROLE ${ident(role)}`);
    for (const h of ['%', 'localhost']) await root.query(`CREATE USER ${acct(u, h)} IDENTIFIED BY 'old-pw-2'`);
    assert.equal(await driver.userExists(root, u), true);
    assert.equal(await driver.userExists(root, role), false);
    assert.equal(await driver.userExists(root, uid()), false);
    await driver.setPassword(root, u, 'new-pw-2');
    const hashes = new Set((await Promise.all(['%', 'localhost'].map((h) => createUser(u, h)))).map((c) => c.split(' IDENTIFIED BY ')[1]));
    assert.equal(hashes.size, 1);
    await canLogin(u, 'new-pw-2');
    await rejectsWith(driver.setPassword(root, uid(), 'x-pw'), 'other', /does not exist/);
  });
});

describe('createUserLike, privilegeDifferences and syncPrivileges', () => {
  const app = uid();
  const clone = `${app}_clone`;
  const db = `${app}_db`;
  const [r1, r2] = [`${app}_r1`, `${app}_r2`];
  const D = ident(db);
  const ctx = { after: (fn: () => Promise<void>) => after(fn) };
  cleanup(ctx, { users: [app, clone], roles: [r1, r2], dbs: [db] });

  before(async () => {
    for (const sql of [
      `CREATE DATABASE ${D}`, `CREATE TABLE ${D}.t (a INT, \`b c\` INT)`, `CREATE TABLE ${D}.t2 (x INT)`, `INSERT INTO ${D}.t2 VALUES (42)`,
      `CREATE FUNCTION ${D}.f() RETURNS INT RETURN 1`, `CREATE ROLE ${ident(r1)}`, `CREATE ROLE ${ident(r2)}`,
      `GRANT SELECT ON ${D}.t2 TO ${ident(r1)}`,
      `CREATE USER ${acct(app, '%')} IDENTIFIED BY 'app-pw' WITH MAX_USER_CONNECTIONS 7`,
      `CREATE USER ${acct(app, 'localhost')} IDENTIFIED BY 'app-pw' REQUIRE SSL ACCOUNT LOCK`,
      `GRANT SELECT, INSERT ON ${D}.* TO ${acct(app, '%')} WITH GRANT OPTION`,
      `GRANT DELETE ON ${D}.t TO ${acct(app, '%')}`,
      `GRANT SELECT (a), UPDATE (\`b c\`) ON ${D}.t TO ${acct(app, '%')}`,
      `GRANT EXECUTE ON FUNCTION ${D}.f TO ${acct(app, '%')}`,
      `GRANT ${ident(r1)} TO ${acct(app, '%')}`, `SET DEFAULT ROLE ${ident(r1)} FOR ${acct(app, '%')}`,
      `GRANT SELECT ON ${D}.* TO ${acct(app, 'localhost')}`,
    ]) await root.query(sql);
  });

  test('createUserLike copies every host entry with its TLS requirement, limits, lock state and grants', async () => {
    await driver.createUserLike(root, app, clone, 'clone-pw');
    assert.deepEqual(await hostsOf(clone), ['%', 'localhost']);
    assert.match(await createUser(clone, 'localhost'), /REQUIRE SSL ACCOUNT LOCK$/);
    assert.match(await createUser(clone, '%'), /WITH MAX_USER_CONNECTIONS 7$/);
    for (const h of ['%', 'localhost']) assert.deepEqual(await grantLines(clone, h), await grantLines(app, h));
    assert.ok((await grantLines(clone, '%')).includes(`GRANT ${ident(r1)} TO <user>`));
    assert.ok((await grantLines(clone, '%')).some((l) => l.includes('WITH GRANT OPTION') && l.includes(`${D}.*`)));
    assert.deepEqual(await driver.privilegeDifferences(root, app, clone, db), []);
    // The clone logs in with its own password and has the role active by default.
    const s = await driver.connect(creds(clone, 'clone-pw', { dbname: db }));
    assert.deepEqual(await s.query('SELECT CURRENT_ROLE() AS r, (SELECT x FROM t2) AS x'), [{ r: r1, x: 42 }]);
    await s.close();
  });

  test('privilegeDifferences names what differs; syncPrivileges grants before it revokes and leaves no difference', async () => {
    for (const sql of [
      `GRANT UPDATE ON ${D}.* TO ${acct(app, '%')}`, `REVOKE INSERT ON ${D}.* FROM ${acct(app, '%')}`,
      `REVOKE EXECUTE ON FUNCTION ${D}.f FROM ${acct(app, '%')}`, `GRANT ${ident(r2)} TO ${acct(app, '%')} WITH ADMIN OPTION`,
      `REVOKE SELECT (a) ON ${D}.t FROM ${acct(app, '%')}`, `GRANT INSERT (a) ON ${D}.t TO ${acct(app, '%')}`,
      `ALTER USER ${acct(app, '%')} WITH MAX_USER_CONNECTIONS 9`,
      `CREATE USER ${acct(app, '10.9.8.%')} IDENTIFIED BY 'app-pw' REQUIRE SSL`, `GRANT SELECT ON ${D}.t TO ${acct(app, '10.9.8.%')}`,
      `CREATE USER ${acct(clone, '192.0.2.1')} IDENTIFIED BY 'stray-pw'`, `GRANT ALL PRIVILEGES ON ${D}.* TO ${acct(clone, '%')}`,
    ]) await root.query(sql);
    const diff = await driver.privilegeDifferences(root, app, clone, db);
    for (const line of [
      `${app}@10.9.8.% has no counterpart ${clone}@10.9.8.%`,
      `${clone}@192.0.2.1 has no counterpart ${app}@192.0.2.1`,
      `${clone}@% has MAX_USER_CONNECTIONS 7 but ${app}@% has 9`,
      `${clone}@% lacks role \`${r2}\``,
      `${clone}@% lacks ADMIN OPTION on role \`${r2}\``,
      `${clone}@% lacks INSERT (\`a\`) on ${D}.\`t\``,
      `${clone}@% has SELECT (\`a\`) on ${D}.\`t\` that ${app}@% lacks`,
      `${clone}@% has EXECUTE on FUNCTION ${D}.\`f\` that ${app}@% lacks`,
      `${clone}@% has ALL PRIVILEGES on ${D}.* that ${app}@% lacks`,
    ]) assert.ok(diff.includes(line), `missing "${line}" in:\n${diff.join('\n')}`);

    const log: string[] = [];
    const recording: DbSession = { query: (sql, params) => (log.push(sql), root.query(sql, params)), close: async () => {} };
    await driver.syncPrivileges(recording, app, clone, db);
    assert.deepEqual(await driver.privilegeDifferences(root, app, clone, db), []);
    assert.deepEqual(await hostsOf(clone), ['%', '10.9.8.%', 'localhost']);
    for (const h of ['%', '10.9.8.%', 'localhost']) assert.deepEqual(await grantLines(clone, h), await grantLines(app, h));
    // The new host entry got the clone's existing password hash and the primary's TLS requirement.
    const hash = (c: string) => /IDENTIFIED BY PASSWORD ('[^']*')/.exec(c)?.[1];
    assert.equal(hash(await createUser(clone, '10.9.8.%')), hash(await createUser(clone, '%')));
    assert.match(await createUser(clone, '10.9.8.%'), /REQUIRE SSL/);
    // Additive first: no blanket REVOKE ALL, and no GRANT after the first REVOKE.
    const changes = log.filter((s) => /^(GRANT|REVOKE|ALTER|CREATE|DROP|SET DEFAULT)/.test(s));
    assert.ok(!changes.some((s) => /REVOKE ALL/i.test(s)), changes.join('\n'));
    const firstRevoke = changes.findIndex((s) => s.startsWith('REVOKE'));
    assert.ok(firstRevoke > 0 && !changes.slice(firstRevoke).some((s) => s.startsWith('GRANT')), changes.join('\n'));
    await canLogin(clone, 'clone-pw');
  });

  test('privilegeDifferences from a session without access to the mysql schema is a privilege error', async () => {
    const s = await driver.connect(creds(clone, 'clone-pw'));
    try {
      await rejectsWith(driver.privilegeDifferences(s, app, clone, db), 'privilege', /needs read access to the mysql schema/);
    } finally {
      await s.close();
    }
  });
});

test('names with quotes, backticks, spaces, dots and question marks', async (t) => {
  const base = uid();
  const app = `${base} o'k`;
  const clone = `${app}_clone`;
  const db = `${base} q\`uo'te "d.b?`;
  const table = 't`1 x?';
  cleanup(t, { users: [app, clone], dbs: [db] });
  const T = `${ident(db)}.${ident(table)}`;
  for (const sql of [
    `CREATE DATABASE ${ident(db)}`, `CREATE TABLE ${T} (${ident("c'ol")} INT, k INT)`, `INSERT INTO ${T} VALUES (5, 6)`,
    `CREATE USER ${acct(app, '%')} IDENTIFIED BY 'q-pw'`, `GRANT SELECT (${ident("c'ol")}) ON ${T} TO ${acct(app, '%')}`,
    `GRANT CREATE ON ${ident(db)}.* TO ${acct(app, '%')}`,
  ]) await root.query(sql);
  await driver.createUserLike(root, app, clone, "c'lone?pw");
  assert.deepEqual(await driver.privilegeDifferences(root, app, clone, db), []);
  const s = await driver.connect(creds(clone, "c'lone?pw", { dbname: db }));
  assert.deepEqual(await s.query(`SELECT ${ident("c'ol")} AS v FROM ${ident(table)}`), [{ v: 5 }]);
  await s.close();
  await root.query(`GRANT INSERT, SELECT (k) ON ${T} TO ${acct(app, '%')}`);
  assert.deepEqual(await driver.privilegeDifferences(root, app, clone, db), [
    `${clone}@% lacks INSERT on ${T}`,
    `${clone}@% lacks SELECT (\`k\`) on ${T}`,
  ]);
  await driver.syncPrivileges(root, app, clone, db);
  assert.deepEqual(await driver.privilegeDifferences(root, app, clone, db), []);
  await driver.setPassword(root, clone, 'next?pw');
  await canLogin(clone, 'next?pw', { dbname: db });
});

// ---------------------------------------------------------------------------------------------
// Verified TLS against a private MariaDB with a throw-away CA.

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const missingTools = ['mariadbd', 'mariadb-install-db', 'openssl'].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);

describe('verified TLS (private MariaDB with its own CA)', { skip: missingTools.length ? `not installed: ${missingTools.join(', ')}` : false }, () => {
  let dir = '';
  let server: ChildProcess | undefined;
  let port = 0;
  let ca = '';
  const rootPw = randomBytes(12).toString('hex');
  const tlsCreds = (u: string, pw: string, more: Partial<DbCredentials> = {}) => creds(u, pw, { port, ssl: true, ...more });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lsd-mariadb-'));
    const sh = (cmd: string) => {
      const r = spawnSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    };
    sh('openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lsd-test-ca -keyout ca.key -out ca.pem');
    sh('openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    sh('openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.pem');
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
    sh(`mariadb-install-db --no-defaults --datadir=${dir}/data ${asRoot.join(' ')} --skip-test-db --auth-root-authentication-method=normal`);
    writeFileSync(join(dir, 'init.sql'), `CREATE USER 'lsroot'@'127.0.0.1' IDENTIFIED BY '${rootPw}';\nGRANT ALL ON *.* TO 'lsroot'@'127.0.0.1' WITH GRANT OPTION;\n`);
    port = await freePort();
    server = spawn('mariadbd', [
      '--no-defaults', `--datadir=${dir}/data`, ...asRoot, `--port=${port}`, '--bind-address=127.0.0.1,127.0.0.2', `--socket=${dir}/sock`,
      `--pid-file=${dir}/pid`, '--skip-name-resolve', `--ssl-ca=${dir}/ca.pem`, `--ssl-cert=${dir}/server.pem`, `--ssl-key=${dir}/server.key`,
      `--init-file=${dir}/init.sql`, '--skip-log-bin', '--innodb-buffer-pool-size=16M', `--log-error=${dir}/err.log`,
    ], { stdio: 'ignore' });
    process.once('exit', () => server?.kill('SIGKILL'));
    for (let i = 0; ; i++) {
      const ok = await tlsDriver().connect(tlsCreds('lsroot', rootPw)).then((s) => (s.close(), true), () => false);
      if (ok) break;
      if (i > 100) throw new Error(`private MariaDB did not start: ${readFileSync(join(dir, 'err.log'), 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tlsDriver = () => mysqlDriver({ connectTimeoutMs: 5000, ca });

  test('ssl: true with the CA connects encrypted; without it the certificate is not trusted', async () => {
    const s = await tlsDriver().connect(tlsCreds('lsroot', rootPw));
    assert.notEqual((await s.query("SHOW STATUS LIKE 'Ssl_cipher'"))[0].Value, '');
    await s.close();
    await rejectsWith(driver.connect(tlsCreds('lsroot', rootPw)), 'unreachable', /TLS certificate is not trusted/, rootPw);
  });

  test('ssl: true checks the host name against the certificate', async () => {
    await rejectsWith(tlsDriver().connect(tlsCreds('lsroot', rootPw, { host: '127.0.0.2' })), 'unreachable', /does not match the host name/);
  });

  test('a clone of a REQUIRE SSL user logs in over verified TLS and not over plaintext', async () => {
    const master = await tlsDriver().connect(tlsCreds('lsroot', rootPw));
    try {
      await master.query("CREATE USER 'tlsapp'@'%' IDENTIFIED BY 'tls-app-pw' REQUIRE SSL");
      await master.query("GRANT SELECT ON mysql.db TO 'tlsapp'@'%'");
      await tlsDriver().createUserLike(master, 'tlsapp', 'tlsapp_clone', 'tls-clone-pw');
      assert.deepEqual(await tlsDriver().privilegeDifferences(master, 'tlsapp', 'tlsapp_clone', undefined), []);
      const s = await tlsDriver().connect(tlsCreds('tlsapp_clone', 'tls-clone-pw'));
      await tlsDriver().probe(s);
      await s.close();
      await rejectsWith(driver.connect(tlsCreds('tlsapp_clone', 'tls-clone-pw', { ssl: false })), 'auth', /refused the password/);
    } finally {
      await master.close();
    }
  });

  test('a password policy (simple_password_check) is a rejected-password failure', async () => {
    const d = tlsDriver();
    const master = await d.connect(tlsCreds('lsroot', rootPw));
    const strong = 'Str0ng!Passw0rd#1';
    try {
      await master.query("INSTALL SONAME 'simple_password_check'");
      await master.query(`CREATE USER 'weak'@'%' IDENTIFIED BY '${strong}'`);
      const s = await d.connect(tlsCreds('weak', strong));
      await rejectsWith(d.setOwnPassword(s, tlsCreds('weak', strong), 'weakpw'), 'rejected-password', /does not satisfy|policy|password/i, 'weakpw');
      await s.close();
      await rejectsWith(d.setPassword(master, 'weak', 'weakpw'), 'rejected-password', undefined, 'weakpw');
      await d.createUserLike(master, 'weak', 'weak_clone', 'An0ther!Passw0rd#2');
      // strict_password_validation (on with a policy plugin) refuses the hash a new host entry is given.
      await master.query(`CREATE USER 'weak'@'localhost' IDENTIFIED BY '${strong}'`);
      await rejectsWith(d.syncPrivileges(master, 'weak', 'weak_clone', undefined), 'other', /refused to copy the password hash .*strict.password.validation/);
    } finally {
      await master.close();
    }
  });
});
