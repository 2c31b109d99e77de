import pg from 'pg';
import mysql from 'mysql2/promise';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredentialRefresher, isAuthFailure, type CredentialsSource, type VersionedCredentials } from './refresh.js';

/*
 * Connection pools that survive rotation. A rotating pool keeps one inner pool (pg.Pool or a
 * mysql2 pool) built from the secret's credentials. When taking a connection fails with an
 * authentication error, it refreshes the credentials (one refresh for any number of concurrent
 * failures), and if they came from another version builds a new inner pool and retries, at most
 * `retries` times. The old pool ends once its last checked-out connection is released; queries
 * already running on it finish normally.
 */

/** A database secret's value (AWS's JSON); `database` is accepted for `dbname` (PostgreSQL: 'postgres' when both are absent). */
export interface DatabaseSecret {
  host: string;
  port?: number | string;
  username: string;
  password: string;
  dbname?: string;
  database?: string;
  ssl?: boolean;
  [key: string]: unknown;
}

/** What a rotating pool has done: authentication failures seen, refreshes asked for, inner pools replaced. */
export interface RotatingPoolStats {
  authFailures: number;
  refreshes: number;
  swaps: number;
}

/** Options of createPgPool / createMysqlPool: `credentials`, or `client` and `secretId`. */
export interface RotatingPoolOptions<O> {
  /** The secret (name or ARN) that a CredentialRefresher made with `client` reads. */
  secretId?: string;
  /** A Secrets Manager client (only `send` is used). */
  client?: Pick<SecretsManagerClient, 'send'>;
  /** Where credentials come from, instead of `client` and `secretId`. */
  credentials?: CredentialsSource<DatabaseSecret>;
  /** Options of the inner pools, except where and as whom to connect (those come from the secret). */
  pool?: O;
  /** Retries of an operation after authentication failures (default 3). */
  retries?: number;
}

/** A pg pool that follows the secret's rotations. */
export interface RotatingPgPool {
  /** pg's Pool.query on the current pool, retried after an authentication failure. */
  query<R extends pg.QueryResultRow = any>(text: string | pg.QueryConfig, values?: any[]): Promise<pg.QueryResult<R>>;
  /** A client checked out of the current pool; `release()` it as usual. */
  connect(): Promise<pg.PoolClient>;
  /** Ends every inner pool, once their checked-out clients are released. */
  end(): Promise<void>;
  /** Counters (live). */
  readonly stats: Readonly<RotatingPoolStats>;
}

/** pg.PoolConfig without the fields that come from the secret. */
export type PgPoolOptions = Omit<pg.PoolConfig, 'user' | 'password' | 'host' | 'port' | 'database' | 'connectionString'>;

/** A pool of pg clients whose credentials come from a secret and are refreshed when the database refuses them. */
export function createPgPool(opts: RotatingPoolOptions<PgPoolOptions>): RotatingPgPool {
  const core = new Rotator<pg.Pool>(
    source(opts),
    (s) => {
      const pool = new pg.Pool({
        ...(s.ssl === true ? { ssl: true } : {}),
        ...opts.pool,
        host: s.host,
        port: toPort(s.port, 5432),
        user: s.username,
        password: s.password,
        database: s.dbname ?? s.database ?? 'postgres',
      });
      pool.on('error', () => undefined); // an idle client that dies is dropped by the pool; it must not crash the process
      return pool;
    },
    (pool) => pool.end(),
    opts.retries,
  );
  return {
    query: (text, values) => core.run((pool) => pool.query(text, values)),
    connect: () =>
      core.run(async (pool, hold) => {
        const client = await pool.connect();
        const release = client.release;
        const done = hold();
        client.release = (err?: Error | boolean) => {
          done();
          return release(err);
        };
        return client;
      }),
    end: () => core.end(),
    stats: core.stats,
  };
}

/** A mysql2 pool that follows the secret's rotations. */
export interface RotatingMysqlPool {
  /** mysql2's Pool.query on the current pool, retried after an authentication failure. */
  query<T extends mysql.QueryResult = any>(sql: string | mysql.QueryOptions, values?: mysql.QueryValues): Promise<[T, mysql.FieldPacket[]]>;
  /** mysql2's Pool.execute on the current pool, retried after an authentication failure. */
  execute<T extends mysql.QueryResult = any>(sql: string | mysql.QueryOptions, values?: mysql.ExecuteValues): Promise<[T, mysql.FieldPacket[]]>;
  /** A connection taken from the current pool; `release()` (or `destroy()`) it as usual. */
  getConnection(): Promise<mysql.PoolConnection>;
  /** Ends every inner pool, once their connections are released. */
  end(): Promise<void>;
  /** Counters (live). */
  readonly stats: Readonly<RotatingPoolStats>;
}

/** mysql2 PoolOptions without the fields that come from the secret. */
export type MysqlPoolOptions = Omit<mysql.PoolOptions, 'user' | 'password' | 'host' | 'port' | 'database' | 'uri'>;

/** A mysql2 (`mysql2/promise`) pool whose credentials come from a secret and are refreshed when the database refuses them. */
export function createMysqlPool(opts: RotatingPoolOptions<MysqlPoolOptions>): RotatingMysqlPool {
  const core = new Rotator<mysql.Pool>(
    source(opts),
    (s) =>
      mysql.createPool({
        ...(s.ssl === true ? { ssl: {} } : {}),
        ...opts.pool,
        host: s.host,
        port: toPort(s.port, 3306),
        user: s.username,
        password: s.password,
        database: s.dbname ?? s.database,
      }),
    // mysql2's end() closes checked-out connections too: the Rotator calls it only once none is left.
    (pool) => pool.end(),
    opts.retries,
  );
  return {
    query: <T extends mysql.QueryResult>(sql: string | mysql.QueryOptions, values?: mysql.QueryValues) =>
      core.run((pool) => (typeof sql === 'string' ? pool.query<T>(sql, values) : pool.query<T>(sql, values))),
    execute: <T extends mysql.QueryResult>(sql: string | mysql.QueryOptions, values?: mysql.ExecuteValues) =>
      core.run((pool) => (typeof sql === 'string' ? pool.execute<T>(sql, values) : pool.execute<T>(sql, values))),
    getConnection: () =>
      core.run(async (pool, hold) => {
        const conn = await pool.getConnection();
        const done = hold();
        const { release, destroy } = conn;
        conn.release = () => {
          done();
          release.call(conn);
        };
        conn.destroy = () => {
          done();
          destroy.call(conn);
        };
        return conn;
      }),
    end: () => core.end(),
    stats: core.stats,
  };
}

function source(opts: RotatingPoolOptions<unknown>): CredentialsSource<DatabaseSecret> {
  if (opts.credentials) return opts.credentials;
  if (opts.client && opts.secretId) return new CredentialRefresher<DatabaseSecret>({ client: opts.client, secretId: opts.secretId });
  throw new TypeError('a rotating pool needs `credentials`, or `client` and `secretId`');
}

function toPort(port: number | string | undefined, fallback: number): number {
  if (port === undefined || port === '') return fallback;
  const n = Number(port);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new TypeError(`the secret's port is not a port number: ${String(port)}`);
  return n;
}

/** An inner pool, the credentials it was built from, and how many operations or checked-out connections use it. */
interface Entry<P> {
  pool: P;
  creds: VersionedCredentials<DatabaseSecret>;
  users: number;
  retired: boolean;
  ended?: Promise<void>;
}

/** The engine-independent part: the current inner pool, single-flight refresh and swap, graceful retirement. */
class Rotator<P> {
  readonly stats: RotatingPoolStats = { authFailures: 0, refreshes: 0, swaps: 0 };
  private current: Entry<P> | undefined;
  private starting: Promise<void> | undefined;
  private swapping: Promise<void> | undefined;
  private closed = false;
  /** Every entry not yet ended, with what resolves once it has. */
  private readonly live = new Map<Entry<P>, { done: Promise<void>; resolve: () => void }>();
  private readonly retries: number;

  constructor(
    private readonly source: CredentialsSource<DatabaseSecret>,
    private readonly build: (secret: DatabaseSecret) => P,
    private readonly close: (pool: P) => Promise<void>,
    retries = 3,
  ) {
    this.retries = retries;
  }

  /**
   * Runs `fn` on the current inner pool; after an authentication failure refreshes (and swaps) and
   * runs it again, at most `retries` more times. `hold()` keeps the pool alive past `fn` (a
   * checked-out connection) until the function it returns is called.
   */
  async run<R>(fn: (pool: P, hold: () => () => void) => Promise<R>): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      const entry = await this.acquire();
      const hold = () => {
        entry.users++;
        let once = false;
        return () => {
          if (once) return;
          once = true;
          this.release(entry);
        };
      };
      let failure: unknown;
      try {
        return await fn(entry.pool, hold);
      } catch (e) {
        if (!isAuthFailure(e)) throw e;
        this.stats.authFailures++;
        failure = e;
      } finally {
        this.release(entry);
      }
      if (attempt >= this.retries) throw failure;
      await this.replace(entry);
    }
  }

  /** Ends the current pool and every retired one, each once its checked-out connections are released. */
  async end(): Promise<void> {
    this.closed = true;
    await this.starting?.catch(() => undefined);
    await this.swapping?.catch(() => undefined);
    if (this.current) this.retire(this.current);
    this.current = undefined;
    await Promise.all([...this.live.values()].map((l) => l.done));
  }

  /** The current entry, counted as used (the caller must release it). */
  private async acquire(): Promise<Entry<P>> {
    for (;;) {
      if (this.closed) throw new Error('the rotating pool has been ended');
      const entry = this.current;
      if (entry) {
        entry.users++;
        return entry;
      }
      await (this.starting ??= this.start().finally(() => (this.starting = undefined)));
    }
  }

  private async start(): Promise<void> {
    const creds = await this.source.get();
    if (!this.closed && !this.current) this.current = this.make(creds);
  }

  private make(creds: VersionedCredentials<DatabaseSecret>): Entry<P> {
    const entry: Entry<P> = { pool: this.build(creds.value), creds, users: 0, retired: false };
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.live.set(entry, { done, resolve });
    return entry;
  }

  private release(entry: Entry<P>): void {
    entry.users--;
    if (entry.retired && entry.users === 0) this.finish(entry);
  }

  /** No new work goes to `entry`; its pool ends when the last user lets go. */
  private retire(entry: Entry<P>): void {
    entry.retired = true;
    if (entry.users === 0) this.finish(entry);
  }

  private finish(entry: Entry<P>): void {
    entry.ended ??= this.close(entry.pool)
      .catch(() => undefined)
      .then(() => {
        this.live.get(entry)?.resolve();
        this.live.delete(entry);
      });
  }

  /** After `failed`'s credentials were refused: one refresh, and a new pool if they changed, for all callers. */
  private replace(failed: Entry<P>): Promise<void> {
    if (this.current !== failed) return Promise.resolve(); // already replaced (or ended)
    return (this.swapping ??= this.swap(failed).finally(() => (this.swapping = undefined)));
  }

  private async swap(failed: Entry<P>): Promise<void> {
    this.stats.refreshes++;
    const next = await this.source.refresh(failed.creds);
    if (this.closed || this.current !== failed || next.versionId === failed.creds.versionId) return;
    this.current = this.make(next);
    this.stats.swaps++;
    this.retire(failed);
  }
}
