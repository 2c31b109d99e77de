/*
 * The contract between the database rotation strategies (single user, alternating users) and the
 * database engines (PostgreSQL, MySQL/MariaDB). A strategy decides what to do at each step; a
 * driver knows how to do it in one engine's SQL.
 */

/** Connection details of one database user, as a secret's JSON gives them (already checked). */
export interface DbCredentials {
  engine: string; // as written in the secret: postgres, mysql, mariadb, aurora-postgresql, ...
  host: string;
  port: number;
  username: string;
  password: string;
  dbname?: string;
  ssl: boolean; // true: verified TLS, never a fall-back to plaintext
}

/** An open connection as one user. */
export interface DbSession {
  /** Runs one statement; rows as plain objects. */
  query(sql: string, params?: unknown[]): Promise<Record<string, any>[]>;
  close(): Promise<void>;
}

/** Why a database operation failed, in terms the strategies act on. */
export type DbFailureKind =
  | 'auth' // the credentials were refused
  | 'unreachable' // no connection (refused, timed out, DNS, TLS handshake)
  | 'rejected-password' // the server refused the new password itself (a password policy)
  | 'privilege' // the user lacks a privilege the operation needs
  | 'other';

/** A failure from a driver, with a message a person understands and never a password in it. */
export class DbError extends Error {
  constructor(
    readonly kind: DbFailureKind,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'DbError';
  }
}

/** Options every driver receives from the server's configuration. */
export interface DriverOptions {
  /** PEM bundle trusted for `ssl: true`, in addition to the system's roots. */
  ca?: string;
  /** Connection timeout in milliseconds. */
  connectTimeoutMs: number;
}

/** One database engine's implementation of what the rotation strategies need. */
export interface DatabaseDriver {
  /** The family name used in messages: 'PostgreSQL' or 'MySQL'. */
  readonly label: string;
  /** The port when the secret gives none. */
  readonly defaultPort: number;
  /** Characters a generated password must not contain for this engine (AWS's choice). */
  readonly excludeCharacters: string;
  /** Longest user name the engine accepts (the clone adds `_clone`). */
  readonly maxUsernameLength: number;
  /** Opens a session as `c.username`; throws DbError ('auth' when the password is refused). */
  connect(c: DbCredentials): Promise<DbSession>;
  /** Changes the logged-in user's own password (single user). */
  setOwnPassword(s: DbSession, c: DbCredentials, newPassword: string): Promise<void>;
  /** Whether a user exists (any host entry, on MySQL). */
  userExists(master: DbSession, username: string): Promise<boolean>;
  /** Creates `clone` modelled on `primary` (attributes, every host entry, TLS requirements) with `password`. */
  createUserLike(master: DbSession, primary: string, clone: string, password: string): Promise<void>;
  /** Sets another user's password as the master user (every host entry, on MySQL). */
  setPassword(master: DbSession, username: string, password: string): Promise<void>;
  /**
   * Makes `clone`'s privileges equal to `primary`'s (memberships, grants, default privileges),
   * adding before revoking so a user in use never loses a privilege it should keep. `dbname` is
   * the database whose objects are synchronised where the engine scopes grants per database.
   */
  syncPrivileges(master: DbSession, primary: string, clone: string, dbname: string | undefined): Promise<void>;
  /** Human-readable differences between two users' effective privileges; empty when they match. */
  privilegeDifferences(s: DbSession, a: string, b: string, dbname: string | undefined): Promise<string[]>;
  /** A real query proving the session works. */
  probe(s: DbSession): Promise<void>;
}
