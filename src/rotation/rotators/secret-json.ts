import type { DbCredentials } from './types.js';

/*
 * The JSON a database secret holds, as AWS's rotation functions define it:
 *   {"engine", "host", "port", "username", "password", "dbname", "ssl", "masterarn"}
 * plus Lockstep's "alternateUsername" for a pair of users the operator created beforehand.
 * Parsing is pure and every refusal names the field and the version, never a value.
 */

/** The database engine families the built-in functions rotate. */
export type EngineFamily = 'postgres' | 'mysql';

/** The `engine` values each family accepts (AWS's names, Aurora's included). */
export const ENGINES: Record<EngineFamily, string[]> = {
  postgres: ['postgres', 'postgresql', 'aurora-postgresql'],
  mysql: ['mysql', 'mariadb', 'aurora-mysql', 'aurora'],
};

/** A checked database secret: its credentials and the whole JSON object (other keys are kept). */
export interface DbSecret {
  fields: Record<string, unknown>;
  creds: DbCredentials;
  masterArn?: string;
  alternateUsername?: string;
}

/** A secret that cannot be used as it is; the message says which field and why. */
export class SecretFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFormatError';
  }
}

/** The family an engine name belongs to, or undefined. */
export function familyOf(engine: string): EngineFamily | undefined {
  const e = engine.toLowerCase();
  return (Object.keys(ENGINES) as EngineFamily[]).find((f) => ENGINES[f].includes(e));
}

function stringField(obj: Record<string, unknown>, key: string, where: string, required: boolean, allowEmpty = false): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) throw new SecretFormatError(`the ${where} secret has no '${key}' field`);
    return undefined;
  }
  if (typeof v !== 'string') throw new SecretFormatError(`the ${where} secret's '${key}' must be a string`);
  if (required && !allowEmpty && v.length === 0) throw new SecretFormatError(`the ${where} secret's '${key}' must not be empty`);
  return v;
}

function portField(obj: Record<string, unknown>, where: string, defaultPort: number): number {
  const v = obj.port;
  if (v === undefined || v === null || v === '') return defaultPort;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new SecretFormatError(`the ${where} secret's 'port' must be a whole number from 1 to 65535`);
  }
  return n;
}

function sslField(obj: Record<string, unknown>, where: string): boolean {
  const v = obj.ssl;
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new SecretFormatError(`the ${where} secret's 'ssl' must be true or false`);
}

/**
 * Parses and checks a database secret. `where` names the version in messages ("AWSCURRENT");
 * `family` is the engine family of the rotation function, whose default port applies.
 */
export function parseDbSecret(text: string | undefined, where: string, family: EngineFamily, defaultPort: number): DbSecret {
  if (text === undefined) throw new SecretFormatError(`the ${where} secret has no SecretString (a JSON object is needed)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SecretFormatError(`the ${where} secret is not valid JSON (a JSON object with engine, host, username and password is needed)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SecretFormatError(`the ${where} secret is not a JSON object (one with engine, host, username and password is needed)`);
  }
  const obj = parsed as Record<string, unknown>;
  const engine = stringField(obj, 'engine', where, true)!;
  const fam = familyOf(engine);
  if (!fam) {
    throw new SecretFormatError(
      `the ${where} secret's engine '${printable(engine)}' is unknown; built-in functions rotate ${[...ENGINES.postgres, ...ENGINES.mysql].join(', ')}`,
    );
  }
  if (fam !== family) {
    throw new SecretFormatError(`the ${where} secret's engine '${printable(engine)}' does not match this function, which rotates ${ENGINES[family][0]}`);
  }
  const creds: DbCredentials = {
    engine,
    host: stringField(obj, 'host', where, true)!,
    port: portField(obj, where, defaultPort),
    username: stringField(obj, 'username', where, true)!,
    password: stringField(obj, 'password', where, true, true)!, // a master may have none (a development server)
    dbname: stringField(obj, 'dbname', where, false) || undefined,
    ssl: sslField(obj, where),
  };
  if (/[\0\r\n]/.test(creds.username)) throw new SecretFormatError(`the ${where} secret's 'username' contains a control character`);
  const masterArn = stringField(obj, 'masterarn', where, false) || undefined;
  const alternateUsername = stringField(obj, 'alternateUsername', where, false) || undefined;
  if (alternateUsername !== undefined && alternateUsername === creds.username) {
    throw new SecretFormatError(`the ${where} secret's 'alternateUsername' must differ from 'username'`);
  }
  return { fields: obj, creds, masterArn, alternateUsername };
}

/** A field value shown in a message: short, printable, never a password (callers pass names only). */
function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}

/** The JSON of a secret with new credentials, every other key kept as it was. */
export function withCredentials(s: DbSecret, username: string, password: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...s.fields, ...extra, username, password });
}
