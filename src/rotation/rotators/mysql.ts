/*
 * The MySQL / MariaDB driver (engines mysql, mariadb, aurora-mysql). One driver for both: where the
 * SQL differs it asks the server (SELECT VERSION()) which one it is talking to. Accounts are
 * per host entry on these servers, so every user-level operation covers all of a user's host
 * entries. The pure parsing and diffing of SHOW GRANTS / SHOW CREATE USER is in `mysql-grants.ts`.
 */
import { connect as netConnect, isIP } from 'node:net';
import { checkServerIdentity, rootCertificates, type TLSSocket } from 'node:tls';
import mysql from 'mysql2/promise';
import { DbError, type DatabaseDriver, type DbCredentials, type DbSession, type DriverOptions } from './types.js';
import {
  alterAccountSql, createUserSql, describeAccountDifferences, describeGrantDifferences, expandAllPrivileges, identifiedBy,
  objectsNeedingExpansion, parseCreateUser, parseGrants, planGrantSync, tokenize, type CreateUserParts, type Flavor, type GrantTuple,
} from './mysql-grants.js';

/** What the driver needs to know about the server behind a session. */
interface ServerInfo {
  flavor: Flavor;
  /** sql_mode NO_BACKSLASH_ESCAPES: string literals are escaped by doubling quotes only. */
  noBackslash: boolean;
}

/** One host entry's account options and grants. */
interface AccountState {
  create: CreateUserParts;
  grants: GrantTuple[];
}

const LABEL = 'MySQL';
const infos = new WeakMap<DbSession, Promise<ServerInfo>>();

const AUTH_ERRNOS = new Set([1045, 1698, 1862, 1820, 3118, 4151, 1130]);
const PRIVILEGE_ERRNOS = new Set([1044, 1142, 1143, 1227, 1045, 1410, 1370, 1698]);
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset during the handshake',
  PROTOCOL_CONNECTION_LOST: 'connection closed during the handshake',
  HANDSHAKE_NO_SSL_SUPPORT: 'the server does not offer TLS, and this secret requires it',
  ER_CON_COUNT_ERROR: 'too many connections',
};

/** The MySQL / MariaDB implementation of `DatabaseDriver`. */
export function mysqlDriver(opts: DriverOptions): DatabaseDriver {
  return {
    label: LABEL,
    defaultPort: 3306,
    excludeCharacters: '/@"\'\\',
    maxUsernameLength: 32,
    connect: (c) => connect(c, opts),
    setOwnPassword,
    userExists: async (master, username) => (await hostsOf(master, username)).length > 0,
    createUserLike,
    setPassword,
    syncPrivileges: (master, primary, clone) => syncPrivileges(master, primary, clone),
    privilegeDifferences: (s, a, b) => privilegeDifferences(s, a, b),
    probe,
  };
}

// ---------------------------------------------------------------------------------------------
// Connections and errors

/** TLS options for `ssl: true`: verified chain and host name; `ca` adds to Node's roots. */
function tlsOptions(opts: DriverOptions) {
  return { ca: opts.ca ? [...rootCertificates, opts.ca] : undefined, rejectUnauthorized: true, verifyIdentity: true };
}

/**
 * For an IP address host with TLS: mysql2 gives Node no host name to check the certificate
 * against, so Node checks it against 'localhost'. A socket that carries the address as its host
 * makes Node check the certificate's IP SANs during the handshake, before any credential is sent.
 */
function ipSocket(c: DbCredentials) {
  if (!c.ssl || !isIP(c.host)) return undefined;
  return () => {
    const socket = netConnect(c.port, c.host);
    socket.setNoDelay(true);
    (socket as unknown as { _host: string })._host = c.host;
    return socket;
  };
}

/** After the handshake, checks again that the certificate names the host (guards the socket trick above). */
function checkPeer(conn: mysql.Connection, c: DbCredentials): void {
  const stream = (conn as unknown as { connection?: { stream?: Partial<TLSSocket> } }).connection?.stream;
  const cert = stream?.getPeerCertificate?.(true);
  const err = cert && Object.keys(cert).length ? checkServerIdentity(c.host, cert) : new Error('no TLS certificate seen');
  if (err) throw Object.assign(new Error(`Hostname/IP does not match certificate's altnames: ${err.message}`), { code: 'HANDSHAKE_SSL_ERROR' });
}

async function connect(c: DbCredentials, opts: DriverOptions): Promise<DbSession> {
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysql.createConnection({
      host: c.host, port: c.port, user: c.username, password: c.password, database: c.dbname || undefined,
      connectTimeout: opts.connectTimeoutMs, ssl: c.ssl ? tlsOptions(opts) : undefined, stream: ipSocket(c), multipleStatements: false,
      supportBigNumbers: true, dateStrings: true,
    });
    if (c.ssl) checkPeer(conn, c);
  } catch (e) {
    conn?.destroy();
    throw connectError(e, c, opts);
  }
  const open = conn;
  open.on('error', () => {}); // a dropped idle connection must not crash the process; the next query reports it
  return {
    query: async (sql, params) => {
      try {
        const [rows] = params && params.length ? await open.query(sql, params) : await open.query(sql);
        return Array.isArray(rows) ? rows.map((r) => ({ ...(r as Record<string, unknown>) })) : [];
      } catch (e) {
        throw queryError(e, (params ?? []).filter((p): p is string => typeof p === 'string'));
      }
    },
    close: async () => {
      await open.end().catch(() => open.destroy());
    },
  };
}

/** A connection failure in words, never with the password. */
function connectError(e: unknown, c: DbCredentials, opts: DriverOptions): DbError {
  const err = e as { code?: string; errno?: number; sqlMessage?: string; message?: string };
  const where = `${c.host}:${c.port}`;
  const user = `'${c.username}'`;
  const errno = err.errno ?? 0;
  if (errno === 1045 || errno === 1698) return new DbError('auth', `${LABEL} refused the password for ${user} at ${where}`, err.code);
  if (AUTH_ERRNOS.has(errno)) return new DbError('auth', `${LABEL} at ${where} refused ${user}: ${err.sqlMessage}`, err.code);
  if (errno === 1044) return new DbError('privilege', `${LABEL} at ${where} refused ${user} the database '${c.dbname}': ${err.sqlMessage}`, err.code);
  if (errno > 0 && err.sqlMessage && err.code !== 'ER_CON_COUNT_ERROR') {
    return new DbError('other', `${LABEL} at ${where} refused the connection of ${user}: ${err.sqlMessage}`, err.code);
  }
  let reason = NETWORK_REASONS[err.code ?? ''] ?? tlsReason(err) ?? err.message ?? String(e);
  if (err.code === 'ETIMEDOUT') reason = `timed out after ${opts.connectTimeoutMs} ms`;
  return new DbError('unreachable', `cannot connect to ${LABEL} at ${where} as ${user}: ${reason}`, err.code);
}

/** A TLS failure's reason (undefined when the error is not about TLS); mysql2 reports them all as HANDSHAKE_SSL_ERROR. */
function tlsReason(err: { code?: string; message?: string }): string | undefined {
  const code = err.code ?? '';
  const message = err.message ?? '';
  if (!/SSL|TLS|CERT|EPROTO/.test(code)) return undefined;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /altnames|hostname/i.test(message)) return `the TLS certificate does not match the host name (${message})`;
  if (/CERT|SELF_SIGNED|VERIFY|ISSUER/.test(code) || /certificate|self[- ]signed|verify|issuer/i.test(message)) return `the TLS certificate is not trusted (${message})`;
  return `TLS handshake failed (${message})`;
}

/** A statement failure as a DbError; `secrets` (passwords, hashes) are blanked out of the message. */
function queryError(e: unknown, secrets: string[]): DbError {
  if (e instanceof DbError) return new DbError(e.kind, scrub(e.message, secrets), e.code);
  const err = e as { code?: string; errno?: number; sqlMessage?: string; message?: string };
  const errno = err.errno ?? 0;
  let message = err.sqlMessage ?? err.message ?? String(e);
  if (errno === 1064 && secrets.length) message = 'SQL syntax error in a statement carrying a password (details withheld)';
  const lost = !(errno > 0) && ((err.code ?? '') in NETWORK_REASONS || /^E[A-Z]+$/.test(err.code ?? ''));
  const kind = errno === 1819 ? 'rejected-password' : PRIVILEGE_ERRNOS.has(errno) ? 'privilege' : lost ? 'unreachable' : 'other';
  return new DbError(kind, `${LABEL}: ${scrub(message, secrets)}`, err.code);
}

function scrub(message: string, secrets: string[]): string {
  let out = message;
  for (const s of secrets.filter((x) => x.length >= 3).sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}

/** Runs `sql` (no placeholders: it may carry `?` in names) with `secrets` kept out of any error. */
async function run(s: DbSession, sql: string, secrets: string[] = []): Promise<Record<string, any>[]> {
  try {
    return await s.query(sql);
  } catch (e) {
    const err = queryError(e, secrets);
    throw err.code === 'ER_CANNOT_USER' ? ((await policyWarning(s, secrets)) ?? err) : err;
  }
}

/**
 * MariaDB fails CREATE / ALTER USER whose password breaks a policy with ER_CANNOT_USER (1396) and
 * leaves the reason, ER_NOT_VALID_PASSWORD (1819), among the warnings.
 */
async function policyWarning(s: DbSession, secrets: string[]): Promise<DbError | undefined> {
  const warnings = await s.query('SHOW WARNINGS').catch(() => []);
  const w = warnings.find((r) => Number(r.Code) === 1819);
  return w ? new DbError('rejected-password', `${LABEL}: ${scrub(String(w.Message), secrets)}`, 'ER_NOT_VALID_PASSWORD') : undefined;
}

// ---------------------------------------------------------------------------------------------
// Server facts and quoting

function serverInfo(s: DbSession): Promise<ServerInfo> {
  let p = infos.get(s);
  if (!p) {
    p = (async () => {
      const [row] = await s.query('SELECT VERSION() AS v, @@SESSION.sql_mode AS m');
      const flavor: Flavor = /mariadb/i.test(String(row.v)) ? 'mariadb' : 'mysql';
      // MySQL 8.0.17+ prints binary password hashes in hex, so SHOW CREATE USER output can be replayed.
      if (flavor === 'mysql') await s.query('SET SESSION print_identified_with_as_hex = ON').catch(() => undefined);
      return { flavor, noBackslash: /NO_BACKSLASH_ESCAPES/i.test(String(row.m)) };
    })();
    p.catch(() => infos.delete(s));
    infos.set(s, p);
  }
  return p;
}

/** A string literal for this server's sql_mode. */
function literal(info: ServerInfo, value: string): string {
  return info.noBackslash ? `'${value.replaceAll("'", "''")}'` : mysql.escape(value);
}

/** An account as 'user'@'host'. */
function account(info: ServerInfo, user: string, host: string): string {
  return `${literal(info, user)}@${literal(info, host)}`;
}

/** The host entries of `user` (roles left out on MariaDB). */
async function hostsOf(s: DbSession, user: string): Promise<string[]> {
  const info = await serverInfo(s);
  // MariaDB's mysql.user is a view whose is_role has a coercible collation: compare it as bytes.
  const roleFilter = info.flavor === 'mariadb' ? " AND CAST(is_role AS BINARY) <> 'Y'" : '';
  const rows = await s.query(`SELECT Host AS host FROM mysql.user WHERE User = ?${roleFilter} ORDER BY Host`, [user]);
  return rows.map((r) => String(r.host));
}

async function requireHosts(s: DbSession, user: string): Promise<string[]> {
  const hosts = await hostsOf(s, user);
  if (!hosts.length) throw new DbError('other', `${LABEL} user '${user}' does not exist`);
  return hosts;
}

/** SHOW CREATE USER of one host entry, parsed. */
async function showCreateUser(s: DbSession, info: ServerInfo, user: string, host: string): Promise<CreateUserParts> {
  const rows = await run(s, `SHOW CREATE USER ${account(info, user, host)}`);
  return parsed(`SHOW CREATE USER for ${user}@${host}`, () => parseCreateUser(rows.map((r) => String(Object.values(r)[0])), info.noBackslash));
}

/** Runs a parser; its failure becomes a DbError without the string literals (password hashes) of the text. */
function parsed<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    const detail = String((e as Error).message).replace(/'(?:[^'\\]|''|\\.)*'/g, "'…'");
    throw new DbError('other', `${LABEL}: cannot understand the output of ${what}: ${detail}`);
  }
}

/** SHOW GRANTS and SHOW CREATE USER of one host entry (MySQL's default roles joined to the grants). */
async function readAccount(s: DbSession, info: ServerInfo, user: string, host: string): Promise<AccountState> {
  const create = await showCreateUser(s, info, user, host);
  const rows = await run(s, `SHOW GRANTS FOR ${account(info, user, host)}`);
  const grants = parsed(`SHOW GRANTS for ${user}@${host}`, () => parseGrants(rows.map((r) => String(Object.values(r)[0])), info.noBackslash));
  const defaults = create.defaultRoles.map((object): GrantTuple => ({ kind: 'default-role', object, privilege: 'DEFAULT ROLE' }));
  return { create, grants: [...grants, ...defaults] };
}

// ---------------------------------------------------------------------------------------------
// Passwords and users

async function setOwnPassword(s: DbSession, c: DbCredentials, newPassword: string): Promise<void> {
  const info = await serverInfo(s);
  const pw = literal(info, newPassword);
  // MariaDB's ALTER USER needs the CREATE USER privilege even for one's own account, and IDENTIFIED BY
  // would switch the account to the default plugin; SET PASSWORD changes the current account's
  // password under its own plugin and needs no privilege.
  const attempts =
    info.flavor === 'mariadb'
      ? [`SET PASSWORD = PASSWORD(${pw})`, `ALTER USER CURRENT_USER() IDENTIFIED BY ${pw}`]
      : [`ALTER USER CURRENT_USER() IDENTIFIED BY ${pw}`, `ALTER USER CURRENT_USER() IDENTIFIED BY ${pw} REPLACE ${literal(info, c.password)}`, `SET PASSWORD = ${pw}`, `SET PASSWORD = PASSWORD(${pw})`];
  let first: DbError | undefined;
  for (const sql of attempts) {
    try {
      await run(s, sql, [newPassword, c.password]);
      return;
    } catch (e) {
      const err = e as DbError;
      first ??= err;
      // Try the next form on a syntax error (older server), a privilege error, or MySQL's
      // ER_MISSING_CURRENT_PASSWORD (3892, password_require_current).
      if (!(err.code === 'ER_PARSE_ERROR' || err.kind === 'privilege' || err.code === 'ER_MISSING_CURRENT_PASSWORD')) throw err;
    }
  }
  throw first ?? new DbError('other', `${LABEL}: could not change the password of '${c.username}'`);
}

async function setPassword(master: DbSession, username: string, password: string): Promise<void> {
  const info = await serverInfo(master);
  for (const host of await requireHosts(master, username)) {
    const { auth } = await showCreateUser(master, info, username, host);
    const sql = `ALTER USER ${account(info, username, host)} ${identifiedBy(auth, literal(info, password), info.flavor)}`;
    await run(master, sql, [password]);
  }
}

async function createUserLike(master: DbSession, primary: string, clone: string, password: string): Promise<void> {
  const info = await serverInfo(master);
  for (const host of await requireHosts(master, primary)) {
    const model = await showCreateUser(master, info, primary, host);
    const auth = identifiedBy(model.auth, literal(info, password), info.flavor);
    await run(master, createUserSql(model, account(info, clone, host), auth), [password]);
  }
  await syncPrivileges(master, primary, clone);
}

// ---------------------------------------------------------------------------------------------
// Privileges

/** The individual privileges `user@host` holds on `object` (to expand its ALL PRIVILEGES), from information_schema. */
async function privilegesOn(s: DbSession, user: string, host: string, object: string): Promise<string[]> {
  const names = tokenize(object).filter((t) => t.type === 'ident').map((t) => t.value);
  const grantee = `'${user}'@'${host}'`; // information_schema prints grantees unescaped
  const [sql, params] =
    object === '*.*'
      ? ['SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?', [grantee]]
      : names.length === 1
        ? ['SELECT PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ?', [grantee, names[0]]]
        : ['SELECT PRIVILEGE_TYPE AS p FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ? AND TABLE_NAME = ?', [grantee, ...names]];
  const rows = await s.query(sql, params);
  return rows.map((r) => String(r.p)).filter((p) => p !== 'USAGE');
}

/** The statements that bring `clone@host` in line with `primary@host`: account options first, then grants, then revokes. */
async function planHost(s: DbSession, info: ServerInfo, primary: string, clone: string, host: string) {
  const p = await readAccount(s, info, primary, host);
  const c = await readAccount(s, info, clone, host);
  let cloneGrants = c.grants;
  for (const object of objectsNeedingExpansion(p.grants, cloneGrants)) {
    cloneGrants = expandAllPrivileges(cloneGrants, object, await privilegesOn(s, clone, host, object));
  }
  const target = account(info, clone, host);
  const plan = planGrantSync(p.grants, cloneGrants, target, info.flavor);
  const alter = alterAccountSql(p.create, c.create, target);
  return { add: alter ? [alter, ...plan.add] : plan.add, remove: plan.remove };
}

/** Creates `clone`'s missing host entries with the password (hash) of one it already has. */
async function addMissingHosts(s: DbSession, info: ServerInfo, primary: string, clone: string, hosts: string[], cloneHosts: string[]) {
  const missing = hosts.filter((h) => !cloneHosts.includes(h));
  if (!missing.length) return;
  const { auth } = await showCreateUser(s, info, clone, cloneHosts[0]);
  const hash = tokenize(auth).filter((t) => t.type === 'string' || /^0x/i.test(t.value)).map((t) => t.value);
  for (const host of missing) {
    const model = await showCreateUser(s, info, primary, host);
    await run(s, createUserSql(model, account(info, clone, host), auth), hash).catch((e: DbError) => {
      if (e.kind !== 'rejected-password' && e.code !== 'ER_OPTION_PREVENTS_STATEMENT') throw e;
      // MariaDB's strict_password_validation refuses a password given as a hash: not the new password's fault.
      throw new DbError('other', `${LABEL} refused to copy the password hash of '${clone}' to its new host entry ${host} (strict_password_validation?): ${e.message}`, e.code);
    });
  }
}

async function syncPrivileges(master: DbSession, primary: string, clone: string): Promise<void> {
  const info = await serverInfo(master);
  const hosts = await requireHosts(master, primary);
  const cloneHosts = await requireHosts(master, clone);
  await addMissingHosts(master, info, primary, clone, hosts, cloneHosts);
  // Two rounds: the second repairs anything a revoke took along (none expected; see revokePrivileges).
  for (let round = 0; round < 2; round++) {
    const plans = [];
    for (const host of hosts) plans.push(await planHost(master, info, primary, clone, host));
    if (plans.every((p) => !p.add.length && !p.remove.length)) break;
    for (const sql of plans.flatMap((p) => p.add)) await run(master, sql);
    for (const sql of plans.flatMap((p) => p.remove)) await run(master, sql);
  }
  for (const host of cloneHosts.filter((h) => !hosts.includes(h))) await run(master, `DROP USER ${account(info, clone, host)}`);
  const left = await privilegeDifferences(master, primary, clone);
  if (left.length) throw new DbError('other', `${LABEL}: the privileges of '${clone}' still differ from '${primary}' after synchronising: ${left.join('; ')}`);
}

/**
 * Differences between `a`'s and `b`'s host entries, TLS requirements, resource limits and grants.
 * Reading another account's grants needs SELECT on the mysql schema; a session without it (such as
 * the pending user's) gets DbError('privilege') saying so rather than a partial comparison.
 */
async function privilegeDifferences(s: DbSession, a: string, b: string): Promise<string[]> {
  const info = await serverInfo(s);
  try {
    const aHosts = await hostsOf(s, a);
    const bHosts = await hostsOf(s, b);
    const out: string[] = [];
    for (const h of aHosts.filter((x) => !bHosts.includes(x))) out.push(`${a}@${h} has no counterpart ${b}@${h}`);
    for (const h of bHosts.filter((x) => !aHosts.includes(x))) out.push(`${b}@${h} has no counterpart ${a}@${h}`);
    for (const h of aHosts.filter((x) => bHosts.includes(x))) {
      const [sa, sb] = [await readAccount(s, info, a, h), await readAccount(s, info, b, h)];
      out.push(...describeAccountDifferences(sa.create, sb.create, `${a}@${h}`, `${b}@${h}`));
      out.push(...describeGrantDifferences(sa.grants, sb.grants, `${a}@${h}`, `${b}@${h}`));
    }
    return out;
  } catch (e) {
    if (e instanceof DbError && e.kind === 'privilege') {
      throw new DbError('privilege', `comparing the privileges of '${a}' and '${b}' needs read access to the mysql schema (SHOW GRANTS FOR another account), which this session's user lacks; compare as the master user (${e.message})`, e.code);
    }
    throw e;
  }
}

async function probe(s: DbSession): Promise<void> {
  const [row] = await s.query('SELECT 1 AS ok, DATABASE() AS db');
  if (Number(row?.ok) !== 1) throw new DbError('other', `${LABEL}: SELECT 1 returned ${JSON.stringify(row)}`);
}
