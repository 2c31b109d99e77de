import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { atProcessEnd, freePort } from './pg-cluster.js';

/*
 * MariaDB for rotation tests: the machine's shared server (127.0.0.1:3306, root without a password),
 * where every test makes its own uniquely named users and databases and drops them afterwards, and a
 * private mariadbd in a temporary directory for what must not touch the shared one (server plugins such
 * as simple_password_check). Private servers are remembered so the process 'exit' handler kills them.
 */

/** Where a MariaDB server listens (default the shared one, 127.0.0.1:3306). */
export interface MariaTarget {
  host?: string;
  port?: number;
}

/** A connection with a `query` that resolves with the rows (or the ResultSetHeader of a statement). */
export interface MariaClient {
  conn: Connection;
  query<T = RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  end(): Promise<void>;
}

/** MariaDB error number of a failed login (bad user or password). */
export const ER_ACCESS_DENIED_ERROR = 1045;
/** What MariaDB sometimes answers instead for an account that no longer exists. */
export const ER_ACCESS_DENIED_NO_PASSWORD_ERROR = 1698;
/** MariaDB error number of a password rejected by a password-validation plugin. */
export const ER_NOT_VALID_PASSWORD = 1819;

/** A root connection to `target` (default the shared server). */
export async function mariaRoot(target: MariaTarget = {}): Promise<MariaClient> {
  return mariaConnect({ ...target, user: 'root', password: '' });
}

/** A connection as `user` / `password` to `target` (and `database` when given). */
export async function mariaConnect(opts: MariaTarget & { user: string; password: string; database?: string }): Promise<MariaClient> {
  const conn = await mysql.createConnection({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 3306,
    user: opts.user,
    password: opts.password,
    database: opts.database,
    connectTimeout: 10_000,
  });
  conn.on('error', () => undefined); // a connection the server kills must not crash the test process
  return {
    conn,
    async query<T>(sql: string, params?: unknown[]) {
      const [rows] = await conn.query(sql, params);
      return rows as T;
    },
    end: () => conn.end().catch(() => undefined),
  };
}

/** A fresh identifier `<prefix>_<8 hex>` of at most 24 characters, valid as a MariaDB user or database name. */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 15) || 'x';
  return `${clean}_${randomBytes(4).toString('hex')}`;
}

/** True when `user` / `password` can log in and run SELECT 1; false when access is denied (1045, 1698); other errors are thrown. */
export async function mariaCanLogin(user: string, password: string, opts: MariaTarget & { database?: string } = {}): Promise<boolean> {
  let client: MariaClient;
  try {
    client = await mariaConnect({ ...opts, user, password });
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (errno === ER_ACCESS_DENIED_ERROR || errno === ER_ACCESS_DENIED_NO_PASSWORD_ERROR) return false;
    throw e;
  }
  try {
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end();
  }
}

/** Drops every host entry of each named user on `target` (default the shared server); unknown names are ignored. */
export async function dropMariaUsers(names: string[], target: MariaTarget = {}): Promise<void> {
  if (names.length === 0) return;
  const root = await mariaRoot(target);
  try {
    const rows = await root.query<RowDataPacket[]>('SELECT User AS user, Host AS host FROM mysql.user WHERE User IN (?)', [names]);
    for (const r of rows) await root.query('DROP USER IF EXISTS ?@?', [r.user, r.host]);
  } finally {
    await root.end();
  }
}

/** Drops each named database on `target` (default the shared server) if it exists. */
export async function dropMariaDatabases(names: string[], target: MariaTarget = {}): Promise<void> {
  if (names.length === 0) return;
  const root = await mariaRoot(target);
  try {
    for (const n of names) await root.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(n)}`);
  } finally {
    await root.end();
  }
}

// ---- a private server ----

/** Options of `startPrivateMariaDb`. */
export interface PrivateMariaDbOptions {
  /** Server plugins loaded at start (--plugin-load-add), e.g. ['simple_password_check']. */
  plugins?: string[];
  /** Extra mariadbd options, e.g. ['--simple-password-check-minimal-length=12']. */
  args?: string[];
}

/** A running private mariadbd (root without a password on 127.0.0.1); `stop()` it (twice is fine). */
export interface PrivateMariaDb {
  host: string;
  port: number;
  socket: string;
  dataDir: string;
  /** Runs `sql` as root on a fresh connection; resolves with the rows (or the ResultSetHeader). */
  query<T = RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  /** A root connection (end it). */
  root(): Promise<MariaClient>;
  /** See `mariaCanLogin`. */
  canLogin(user: string, password: string, database?: string): Promise<boolean>;
  /** The server's error log so far. */
  readLog(): string;
  /** Kills the server and removes its files. */
  stop(): Promise<void>;
}

/** A private server's process and files, for the exit handler. */
interface Running {
  dir: string;
  child?: ChildProcess;
}

const running = new Set<Running>();

atProcessEnd(() => {
  for (const r of running) {
    r.child?.kill('SIGKILL');
    rmSync(r.dir, { recursive: true, force: true });
  }
});

const asRoot = process.getuid?.() === 0;

/**
 * Initialises a data directory with mariadb-install-db and starts mariadbd on a free port of 127.0.0.1
 * with its own socket; resolves once root can connect. On failure everything is removed and the error carries the log.
 */
export async function startPrivateMariaDb(opts: PrivateMariaDbOptions = {}): Promise<PrivateMariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-maria-'));
  const r: Running = { dir };
  running.add(r);
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const logFile = join(dir, 'error.log');
  const readLog = () => readText(logFile);
  try {
    installDb(dataDir);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const args = serverArgs(dataDir, port, socket, logFile, opts);
      const child = spawn('/usr/sbin/mariadbd', args, { stdio: 'ignore' });
      r.child = child;
      child.unref(); // a forgotten server must not keep the test process alive (the exit handler kills it)
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.on('error', () => undefined);
      try {
        await waitForRoot(port, exited);
        break;
      } catch (e) {
        child.ref();
        child.kill('SIGKILL');
        await exited;
        if (attempt >= 3 || !/Address already in use|Bind on TCP\/IP port/i.test(readLog())) throw e;
      }
    }
    return privateHandle(r, port, socket, dataDir, readLog);
  } catch (e) {
    const log = readLog();
    r.child?.kill('SIGKILL');
    running.delete(r);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a private MariaDB: ${(e as Error).message}${log ? `\nerror log:\n${log}` : ''}`);
  }
}

/** The handle of a started private server. */
function privateHandle(r: Running, port: number, socket: string, dataDir: string, readLog: () => string): PrivateMariaDb {
  const target = { host: '127.0.0.1', port };
  let stopping: Promise<void> | undefined;
  return {
    ...target,
    socket,
    dataDir,
    async query<T>(sql: string, params?: unknown[]) {
      const c = await mariaRoot(target);
      try {
        return await c.query<T>(sql, params);
      } finally {
        await c.end();
      }
    },
    root: () => mariaRoot(target),
    canLogin: (user, password, database) => mariaCanLogin(user, password, { ...target, database }),
    readLog,
    stop() {
      stopping ??= (async () => {
        const child = r.child;
        if (child && child.exitCode === null && child.signalCode === null) {
          const gone = new Promise((resolve) => child.once('exit', resolve));
          child.ref(); // keep the event loop alive until the exit is seen
          child.kill('SIGKILL');
          await gone;
        }
        running.delete(r);
        rmSync(r.dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/**
 * mariadb-install-db into `dataDir`. --no-defaults keeps /etc/mysql out (its `user = mysql` would chown the
 * data directory to mysql, who cannot enter our 0700 temporary directory), and as root --user=root is required.
 */
function installDb(dataDir: string): void {
  const args = ['--no-defaults', ...(asRoot ? ['--user=root'] : []), `--datadir=${dataDir}`, '--auth-root-authentication-method=normal',
    '--skip-test-db', '--innodb-log-file-size=4M', '--innodb-buffer-pool-size=16M'];
  const res = spawnSync('/usr/bin/mariadb-install-db', args, { encoding: 'utf8', timeout: 60_000 });
  if (res.status !== 0) throw new Error(`mariadb-install-db failed (${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`);
}

/** The mariadbd command line. */
function serverArgs(dataDir: string, port: number, socket: string, logFile: string, opts: PrivateMariaDbOptions): string[] {
  return [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--port=${port}`,
    `--socket=${socket}`,
    `--pid-file=${join(dataDir, 'mariadbd.pid')}`,
    `--log-error=${logFile}`,
    '--bind-address=127.0.0.1',
    ...(asRoot ? ['--user=root'] : []),
    '--skip-name-resolve',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=16M',
    '--innodb-log-file-size=4M',
    '--innodb-flush-log-at-trx-commit=0',
    ...(opts.plugins ?? []).map((p) => `--plugin-load-add=${/\.so$/.test(p) ? p : `${p}.so`}`),
    ...(opts.args ?? []),
  ];
}

/** Polls a root login on `port` until it works (30 s at most), failing early if the server exits. */
async function waitForRoot(port: number, exited: Promise<number | null>): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => {
    gone = code;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone !== undefined) throw new Error(`mariadbd exited (code ${gone}) before accepting connections`);
    try {
      const c = await mariaRoot({ port });
      await c.end();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`mariadbd did not accept connections within 30 s: ${(e as Error).message}`);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** A file's text, '' when it does not exist. */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
