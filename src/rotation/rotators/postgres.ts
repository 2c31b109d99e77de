import { isIP } from 'node:net';
import pg from 'pg';
import { scramSha256Verifier } from './scram.js';
import { differences, syncPrivileges } from './postgres-privileges.js';
import { DbError, type DatabaseDriver, type DbCredentials, type DbSession, type DriverOptions } from './types.js';
import { ident, literal } from './postgres-sql.js';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE', '57P03']);
const AUTH_CODES = new Set(['28P01', '28000']);

function where(c: DbCredentials): string {
  return `PostgreSQL at ${c.host}:${c.port}`;
}

/** A connection failure as a DbError a person understands. */
function connectError(e: unknown, c: DbCredentials): DbError {
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  const msg = err.message ?? String(e);
  if (AUTH_CODES.has(code)) return new DbError('auth', `${where(c)} refused the password for '${c.username}'`, code);
  if (code === '3D000') return new DbError('other', `database '${c.dbname}' does not exist on ${where(c)}`, code);
  if (/SSL|TLS|certificate|CERT|self.signed/i.test(`${code} ${msg}`)) {
    return new DbError('unreachable', `no verified TLS connection to ${where(c)}: ${msg}`, code || 'TLS');
  }
  if (UNREACHABLE_CODES.has(code) || /timeout|terminated|closed/i.test(msg)) {
    return new DbError('unreachable', `cannot connect to ${where(c)} as '${c.username}': ${reason(code, msg)}`, code || 'UNREACHABLE');
  }
  return new DbError('other', `cannot connect to ${where(c)} as '${c.username}': ${msg}`, code);
}

function reason(code: string, msg: string): string {
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === 'ETIMEDOUT' || /timeout/i.test(msg)) return 'timed out';
  return msg;
}

/** A statement failure as a DbError. */
export function queryError(e: unknown, doing: string): DbError {
  if (e instanceof DbError) return e;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  const kind = code === '42501' ? 'privilege' : UNREACHABLE_CODES.has(code) ? 'unreachable' : 'other';
  return new DbError(kind, `PostgreSQL error while ${doing}: ${err.message ?? String(e)}${code ? ` (${code})` : ''}`, code);
}

/** The PostgreSQL driver of the built-in rotation functions. */
export function postgresDriver(opts: DriverOptions): DatabaseDriver {
  async function connect(c: DbCredentials): Promise<DbSession> {
    const client = new pg.Client({
      host: c.host,
      port: c.port,
      user: c.username,
      password: c.password,
      database: c.dbname ?? 'postgres',
      connectionTimeoutMillis: opts.connectTimeoutMs,
      statement_timeout: 60_000,
      application_name: 'lockstep-rotation',
      ssl: c.ssl ? { rejectUnauthorized: true, ...(opts.ca ? { ca: opts.ca } : {}), ...(isIP(c.host) ? {} : { servername: c.host }) } : false,
    });
    client.on('error', () => undefined); // a dropped connection surfaces on the next query
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => undefined);
      throw connectError(e, c);
    }
    return {
      async query(sql, params) {
        try {
          return (await client.query(sql, params as unknown[] | undefined)).rows;
        } catch (e) {
          throw queryError(e, 'running a statement');
        }
      },
      async close() {
        await client.end().catch(() => undefined);
      },
    };
  }

  /** The password clause: a SCRAM verifier, so the plaintext never reaches the server (PostgreSQL 10+). */
  async function passwordClause(s: DbSession, password: string): Promise<string> {
    const [row] = await s.query('SHOW server_version_num');
    const version = Number(row?.server_version_num ?? 0);
    return `PASSWORD ${literal(version >= 100000 ? scramSha256Verifier(password) : password)}`;
  }

  async function alterPassword(s: DbSession, role: string, password: string, doing: string): Promise<void> {
    const clause = await passwordClause(s, password);
    try {
      await s.query(`ALTER ROLE ${role} ${clause}`);
    } catch (e) {
      const err = e as DbError;
      // A password policy (passwordcheck or a hook) refuses with invalid_parameter_value.
      if (err.code === '22023') throw new DbError('rejected-password', `PostgreSQL refused the new password: ${err.message}`, err.code);
      throw queryError(e, doing);
    }
  }

  return {
    label: 'PostgreSQL',
    defaultPort: 5432,
    excludeCharacters: '/@"\'\\',
    maxUsernameLength: 63,
    connect,
    async setOwnPassword(s, _c, password) {
      await alterPassword(s, 'CURRENT_USER', password, 'changing the password');
    },
    async userExists(m, username) {
      return (await m.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).length > 0;
    },
    async createUserLike(m, model, user, password) {
      const [r] = await m.query(
        'SELECT rolcreatedb, rolcreaterole, rolinherit, rolconnlimit FROM pg_roles WHERE rolname = $1',
        [model],
      );
      if (!r) throw new DbError('other', `role '${model}' does not exist, so '${user}' cannot be modelled on it`);
      const attrs = [
        'LOGIN',
        r.rolcreatedb ? 'CREATEDB' : 'NOCREATEDB',
        r.rolcreaterole ? 'CREATEROLE' : 'NOCREATEROLE',
        r.rolinherit ? 'INHERIT' : 'NOINHERIT',
        `CONNECTION LIMIT ${Number(r.rolconnlimit)}`,
      ].join(' ');
      const clause = await passwordClause(m, password);
      try {
        await m.query(`CREATE ROLE ${ident(user)} WITH ${attrs} ${clause}`);
      } catch (e) {
        const err = e as DbError;
        if (err.code === '22023') throw new DbError('rejected-password', `PostgreSQL refused the new password: ${err.message}`, err.code);
        throw queryError(e, `creating role '${user}'`);
      }
    },
    async setPassword(m, username, password) {
      await alterPassword(m, ident(username), password, `setting the password of '${username}'`);
    },
    syncPrivileges: (m, primary, clone) => syncPrivileges(m, primary, clone),
    privilegeDifferences: (s, a, b) => differences(s, a, b),
    async probe(s) {
      const rows = await s.query('SELECT current_user AS u, current_database() AS d, 1 AS one');
      if (rows[0]?.one !== 1) throw new DbError('other', 'PostgreSQL answered the test query wrongly');
    },
  };
}
