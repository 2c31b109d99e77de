import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/*
 * A private PostgreSQL cluster for rotation tests. The machine's own server (127.0.0.1:5432) trusts
 * every connection, so a login there proves nothing; this one is initialised with scram-sha-256 for
 * every host connection, a random superuser password, and (optionally) TLS with a throw-away CA.
 * As root, initdb and pg_ctl run as the `postgres` user through `runuser`. Every running cluster is
 * remembered so that the process 'exit' handler stops it (pg_ctl stop -m immediate) and removes its files.
 */

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;
/** The OS account the server runs as. */
const PG_OS_USER = asRoot ? 'postgres' : userInfo().username;

/** Options of `startPgCluster`. */
export interface PgClusterOptions {
  /** Serve TLS with a server certificate signed by a fresh CA (see `caFile` / `caPem`). */
  ssl?: boolean;
  /** shared_preload_libraries (e.g. ['passwordcheck']). */
  preloadLibraries?: string[];
}

/** A running private cluster; `stop()` it (twice is fine). */
export interface PgCluster {
  host: string;
  port: number;
  /** 'postgres'. */
  superuser: string;
  superPassword: string;
  /** The cluster's data directory (inside the temporary directory `stop()` removes). */
  dataDir: string;
  /** The CA that signed the server certificate (ssl clusters only). */
  caFile?: string;
  caPem?: string;
  /** The server log. */
  logFile: string;
  /** Runs `sql` as the superuser on a fresh connection (database default 'postgres'); resolves with the rows. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  /** True when `user` / `password` can connect and run SELECT 1; false on an authentication failure (28P01 / 28000). */
  canLogin(user: string, password: string, database?: string): Promise<boolean>;
  /** The server log so far. */
  readLog(): string;
  /** Stops the server (immediate mode) and removes every file; safe to call twice. */
  stop(): Promise<void>;
}

/** A started cluster's files, for the exit handler. */
interface Running {
  root: string;
  dataDir: string;
}

const running = new Set<Running>();

atProcessEnd(() => {
  for (const r of running) stopSync(r);
});

/**
 * Runs `fn` (synchronous) when the process exits or is stopped by SIGINT / SIGTERM / SIGHUP; after a signal,
 * the signal is raised again when nobody else listens for it, so the process still dies of it.
 */
export function atProcessEnd(fn: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    try {
      fn();
    } catch {
      // best effort while exiting
    }
  };
  process.once('exit', once);
  const handlers: Record<string, () => void> = {};
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      once();
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, handlers[s]);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    handlers[sig] = onSignal;
    process.once(sig, onSignal);
  }
}

/** The newest installed PostgreSQL's bin directory (/usr/lib/postgresql/<major>/bin). */
export function pgBinDir(): string {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base) ? readdirSync(base).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const m of majors) {
    const bin = join(base, m, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(`no PostgreSQL server binaries under ${base}`);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a private cluster; on any failure everything made so far is removed and the error carries the log. */
export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const root = mkdtempSync(join(tmpdir(), 'lockstep-pg-'));
  const r: Running = { root, dataDir: join(root, 'data') };
  const logFile = join(root, 'server.log');
  const superPassword = randomBytes(18).toString('base64url');
  try {
    giveToPg(root);
    chmodSync(root, 0o711); // the CA file in it is readable by path for any user; the data directory stays 0700
    await initCluster(r.dataDir, superPassword, root);
    const ssl = opts.ssl ? await makeCertificates(root, r.dataDir) : undefined;
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      writeSettings(r.dataDir, root, port, opts, ssl !== undefined);
      running.add(r);
      try {
        await pgCtl(['start', '-D', r.dataDir, '-w', '-t', '30', '-l', logFile], root);
        break;
      } catch (e) {
        if (attempt >= 3 || !readText(logFile).includes('Address already in use')) throw e;
      }
    }
    return clusterHandle(r, port, superPassword, logFile, ssl);
  } catch (e) {
    const log = readText(logFile);
    stopSync(r);
    throw new Error(`could not start a PostgreSQL cluster: ${(e as Error).message}${log ? `\nserver log:\n${log}` : ''}`);
  }
}

/** The handle of a started cluster. */
function clusterHandle(r: Running, port: number, superPassword: string, logFile: string, ssl?: { caFile: string }): PgCluster {
  let stopping: Promise<void> | undefined;
  const cluster: PgCluster = {
    host: '127.0.0.1',
    port,
    superuser: 'postgres',
    superPassword,
    dataDir: r.dataDir,
    logFile,
    ...(ssl ? { caFile: ssl.caFile, caPem: readFileSync(ssl.caFile, 'utf8') } : {}),
    async query<R extends Record<string, unknown>>(sql: string, params?: unknown[], database = 'postgres') {
      const client = pgClient({ port, user: 'postgres', password: superPassword, database });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    canLogin: (user, password, database = 'postgres') => pgCanLogin({ port, user, password, database }),
    readLog: () => readText(logFile),
    stop() {
      stopping ??= (async () => {
        if (!running.has(r)) return;
        await pgCtl(['stop', '-D', r.dataDir, '-m', 'immediate', '-w', '-t', '20'], r.root).catch(() => undefined);
        running.delete(r);
        rmSync(r.root, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  return cluster;
}

/** How `pgCanLogin` connects. */
export interface PgLogin {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  user: string;
  password: string;
  /** Default 'postgres'. */
  database?: string;
  /** Passed to the `pg` Client as is (default no TLS). */
  ssl?: pg.ClientConfig['ssl'];
}

/** A `pg` client whose late errors (the server going away) are ignored. */
export function pgClient(login: PgLogin): pg.Client {
  const { host = '127.0.0.1', database = 'postgres', ...rest } = login;
  const client = new pg.Client({ ...rest, host, database, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  return client;
}

/**
 * True when the login connects and runs SELECT 1; false on an authentication failure (28P01 / 28000, or an empty
 * password the server asks for); other errors are thrown.
 */
export async function pgCanLogin(login: PgLogin): Promise<boolean> {
  const client = pgClient(login);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === '28P01' || code === '28000') return false;
    // The server asked for a password and `pg` refuses to send an empty one.
    if (login.password === '' && /client password must be a string/.test((e as Error).message)) return false;
    throw e;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs a PostgreSQL binary as the server's OS user (through runuser when we are root). */
function runPg(bin: string, args: string[], cwd: string) {
  const path = join(pgBinDir(), bin);
  return asRoot ? run('runuser', ['-u', PG_OS_USER, '--', path, ...args], { cwd }) : run(path, args, { cwd });
}

/** pg_ctl with `args`. */
function pgCtl(args: string[], cwd: string) {
  return runPg('pg_ctl', args, cwd);
}

/** initdb with scram-sha-256 everywhere and `password` for the superuser `postgres`. */
async function initCluster(dataDir: string, password: string, root: string): Promise<void> {
  const pwFile = join(root, 'pwfile');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  giveToPg(pwFile);
  try {
    await runPg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--no-sync'], root);
  } finally {
    rmSync(pwFile, { force: true });
  }
}

/** Appends the listen, auth and ssl settings to postgresql.conf (a later line wins, so a retry may append again). */
function writeSettings(dataDir: string, root: string, port: number, opts: PgClusterOptions, ssl: boolean): void {
  const lines = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${root}'`,
    `password_encryption = 'scram-sha-256'`,
    `fsync = off`,
    `max_connections = 300`,
  ];
  if (opts.preloadLibraries?.length) lines.push(`shared_preload_libraries = '${opts.preloadLibraries.join(',')}'`);
  if (ssl) lines.push(`ssl = on`, `ssl_cert_file = 'server.crt'`, `ssl_key_file = 'server.key'`);
  appendFileSync(join(dataDir, 'postgresql.conf'), `\n# lockstep test settings\n${lines.join('\n')}\n`);
}

/**
 * A fresh CA (ca.key / ca.crt in `root`) and a server key and certificate it signs (SAN IP:127.0.0.1,
 * DNS:localhost), the latter two in the data directory owned by the server's user, the key 0600.
 */
async function makeCertificates(root: string, dataDir: string): Promise<{ caFile: string }> {
  const caKey = join(root, 'ca.key');
  const caFile = join(root, 'ca.crt');
  const key = join(dataDir, 'server.key');
  const csr = join(root, 'server.csr');
  const crt = join(dataDir, 'server.crt');
  const ext = join(root, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '7', '-subj', '/CN=Lockstep Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...ec, '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', crt, '-days', '7', '-extfile', ext]);
  chmodSync(key, 0o600);
  giveToPg(key);
  giveToPg(crt);
  chmodSync(caFile, 0o644);
  return { caFile };
}

/** chown to the postgres user (only needed, and only possible, as root). */
function giveToPg(path: string): void {
  if (!asRoot) return;
  const u = pgUser();
  chownSync(path, u.uid, u.gid);
}

let pgIds: { uid: number; gid: number } | undefined;

/** The uid / gid of the postgres OS user. */
function pgUser(): { uid: number; gid: number } {
  if (!pgIds) {
    const r = spawnSync('id', ['-u', PG_OS_USER], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', PG_OS_USER], { encoding: 'utf8' });
    if (r.status !== 0 || g.status !== 0) throw new Error(`no OS user ${PG_OS_USER} to run PostgreSQL as`);
    pgIds = { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  return pgIds;
}

/** Synchronous immediate stop and removal (exit handler and start failures). */
function stopSync(r: Running): void {
  if (existsSync(join(r.dataDir, 'postmaster.pid'))) {
    const args = ['stop', '-D', r.dataDir, '-m', 'immediate', '-w', '-t', '10'];
    const bin = join(pgBinDir(), 'pg_ctl');
    if (asRoot) spawnSync('runuser', ['-u', PG_OS_USER, '--', bin, ...args], { cwd: r.root, stdio: 'ignore' });
    else spawnSync(bin, args, { cwd: r.root, stdio: 'ignore' });
  }
  running.delete(r);
  rmSync(r.root, { recursive: true, force: true });
}

/** A file's text, '' when it does not exist. */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
