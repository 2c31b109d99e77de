/*
 * Pure helpers for MySQL / MariaDB accounts: a tokenizer for the SQL that SHOW GRANTS and SHOW CREATE
 * USER print, parsers turning it into normalised grant tuples and account clauses, and the differ that
 * plans the GRANT / REVOKE / ALTER USER statements making one account's privileges equal another's.
 * Nothing here talks to a server; `mysql.ts` feeds it the server's output and runs what it returns.
 */

/** One lexical token; `start`/`end` index the source text so clauses can be copied verbatim. */
export interface Token {
  type: 'word' | 'ident' | 'string' | 'punct';
  /** Unquoted value (identifiers and strings), the text itself otherwise. */
  value: string;
  start: number;
  end: number;
}

/** What one grant says, normalised so that two users' grants compare by key. */
export interface GrantTuple {
  kind: 'privilege' | 'partial-revoke' | 'role' | 'proxy' | 'default-role';
  /** `*.*`, `` `db`.* ``, `` `db`.`t` ``, `` FUNCTION `db`.`f` ``; an account for role, proxy and default-role. */
  object: string;
  /** 'SELECT', 'ALL PRIVILEGES', 'GRANT OPTION'; 'ROLE' / 'ADMIN OPTION'; 'PROXY'; 'DEFAULT ROLE'. */
  privilege: string;
  /** The quoted column of a column privilege. */
  column?: string;
}

/** SHOW CREATE USER split into the clauses a clone copies or compares. */
export interface CreateUserParts {
  /** The account, normalised (`` `u`@`h` ``). */
  account: string;
  /** The IDENTIFIED clause verbatim ('' when none). */
  auth: string;
  /** MySQL 8's DEFAULT ROLE accounts, normalised. */
  defaultRoles: string[];
  /** The TLS requirement: 'NONE', 'SSL', 'X509' or "ISSUER '…' AND SUBJECT '…' AND CIPHER '…'". */
  require: string;
  /** Resource limits by name (MAX_QUERIES_PER_HOUR, …), as printed. */
  limits: Record<string, string>;
  /** PASSWORD … option clauses verbatim (expiry, history, reuse, require current). */
  password: string[];
  /** 'ACCOUNT LOCK', 'ACCOUNT UNLOCK' or ''. */
  lock: string;
  /** Anything else verbatim (FAILED_LOGIN_ATTEMPTS, PASSWORD_LOCK_TIME, COMMENT, ATTRIBUTE). */
  other: string[];
}

/** The statements that make a clone's grants equal a primary's: run `add` first, then `remove`. */
export interface SyncPlan {
  add: string[];
  remove: string[];
}

/** 'mysql' or 'mariadb': where the two dialects differ (roles, default roles, admin option). */
export type Flavor = 'mysql' | 'mariadb';

/** Quotes an identifier in backticks, doubling any backtick inside. */
export function quoteIdent(name: string): string {
  return '`' + name.replaceAll('`', '``') + '`';
}

/** An account in backtick form, as SHOW GRANTS prints it: `` `u`@`h` `` (`` `r` `` for a host-less MariaDB role). */
export function quoteAccount(user: string, host?: string): string {
  return host === undefined ? quoteIdent(user) : `${quoteIdent(user)}@${quoteIdent(host)}`;
}

/** Splits SQL into tokens; `noBackslashEscapes` follows the server's sql_mode of that name. */
export function tokenize(sql: string, noBackslashEscapes = false): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (/\s/.test(ch)) i++;
    else if (ch === '`' || ch === "'" || ch === '"') {
      const t = readQuoted(sql, i, noBackslashEscapes && ch !== '`');
      out.push(t);
      i = t.end;
    } else if (/[A-Za-z0-9_$]/.test(ch)) {
      let j = i;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j])) j++;
      out.push({ type: 'word', value: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      out.push({ type: 'punct', value: ch, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

const ESCAPES: Record<string, string> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' };

function readQuoted(sql: string, start: number, noBackslash: boolean): Token {
  const q = sql[start];
  let value = '';
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === q && sql[i + 1] === q) {
      value += q;
      i += 2;
    } else if (ch === q) {
      return { type: q === '`' ? 'ident' : 'string', value, start, end: i + 1 };
    } else if (ch === '\\' && q !== '`' && !noBackslash && i + 1 < sql.length) {
      value += ESCAPES[sql[i + 1]] ?? sql[i + 1];
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
  throw new Error(`unterminated ${q} quote in: ${sql}`);
}

const upper = (t: Token | undefined) => (t && t.type === 'word' ? t.value.toUpperCase() : '');
const isName = (t: Token | undefined) => !!t && t.type !== 'punct';

/** Reads an account (`u`@`h`, 'u'@'h', `r`) at `i`; returns it normalised and the index after it. */
function readAccount(tokens: Token[], i: number): [string, number] {
  if (!isName(tokens[i])) throw new Error(`expected an account at "${tokens[i]?.value ?? 'end'}"`);
  const user = tokens[i].value;
  if (tokens[i + 1]?.value === '@' && isName(tokens[i + 2])) return [quoteAccount(user, tokens[i + 2].value), i + 3];
  // MySQL prints `u`@`h`, some versions 'u'@'h'; a bare name is a MariaDB role (or CURRENT_USER).
  return [quoteAccount(user), i + 1];
}

/** Splits tokens at top-level commas. */
function splitCommas(tokens: Token[]): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.value === '(' && t.type === 'punct') depth++;
    if (t.value === ')' && t.type === 'punct') depth--;
    if (t.type === 'punct' && t.value === ',' && depth === 0) parts.push([]);
    else parts[parts.length - 1].push(t);
  }
  return parts.filter((p) => p.length > 0);
}

/** Parses a privilege list (`SELECT, SELECT (`a`, `b`), ALL`) into name + column entries. */
function parsePrivileges(tokens: Token[]): { privilege: string; column?: string }[] {
  const out: { privilege: string; column?: string }[] = [];
  for (const part of splitCommas(tokens)) {
    const paren = part.findIndex((t) => t.type === 'punct' && t.value === '(');
    const words = (paren < 0 ? part : part.slice(0, paren)).map((t) => t.value.toUpperCase());
    let privilege = words.join(' ');
    if (privilege === 'ALL') privilege = 'ALL PRIVILEGES';
    if (paren < 0) {
      out.push({ privilege });
      continue;
    }
    const cols = part.slice(paren + 1, part.length - 1).filter(isName);
    for (const c of cols) out.push({ privilege, column: quoteIdent(c.value) });
  }
  return out;
}

const OBJECT_TYPES = new Set(['TABLE', 'FUNCTION', 'PROCEDURE', 'PACKAGE']);

/** Normalises a grant's object (`ON …` up to `TO`/`FROM`). */
function parseObject(tokens: Token[]): string {
  let i = 0;
  let prefix = '';
  if (tokens[i]?.type === 'word' && OBJECT_TYPES.has(upper(tokens[i])) && tokens.length > 1 && tokens[i + 1].value !== '.') {
    const type = upper(tokens[i++]);
    if (type === 'PACKAGE' && upper(tokens[i]) === 'BODY') {
      prefix = 'PACKAGE BODY ';
      i++;
    } else if (type !== 'TABLE') prefix = type + ' ';
  }
  const part = (t: Token | undefined) => {
    if (!t) throw new Error('incomplete grant object');
    return t.type === 'punct' && t.value === '*' ? '*' : quoteIdent(t.value);
  };
  const first = part(tokens[i]);
  if (tokens[i + 1]?.value !== '.') return prefix + first;
  return `${prefix}${first}.${part(tokens[i + 2])}`;
}

/** Index of the first top-level unquoted word `word` at or after `from` (-1 when absent). */
function findWord(tokens: Token[], word: string, from = 0, to = tokens.length): number {
  let depth = 0;
  for (let i = from; i < to; i++) {
    const t = tokens[i];
    if (t.type === 'punct' && t.value === '(') depth++;
    if (t.type === 'punct' && t.value === ')') depth--;
    if (depth === 0 && upper(t) === word) return i;
  }
  return -1;
}

/** Whether two consecutive unquoted words appear in `tokens` (e.g. GRANT OPTION). */
function hasWords(tokens: Token[], a: string, b: string): boolean {
  return tokens.some((t, i) => upper(t) === a && upper(tokens[i + 1]) === b);
}

/**
 * Parses one SHOW GRANTS line (MySQL 5.7/8, MariaDB 10.x) into tuples. USAGE carries nothing; the
 * IDENTIFIED / REQUIRE / resource-limit clauses MariaDB appends are account attributes and are
 * skipped (they come from SHOW CREATE USER). Throws on a line it does not understand.
 */
export function parseGrantLine(line: string, noBackslashEscapes = false): GrantTuple[] {
  const tokens = tokenize(line.trim().replace(/;$/, ''), noBackslashEscapes);
  const verb = upper(tokens[0]);
  if (verb === 'SET' && upper(tokens[1]) === 'DEFAULT' && upper(tokens[2]) === 'ROLE') return parseDefaultRole(tokens);
  if (verb !== 'GRANT' && verb !== 'REVOKE') throw new Error(`not a grant: ${line}`);
  const toIdx = findWord(tokens, verb === 'GRANT' ? 'TO' : 'FROM', 1);
  if (toIdx < 0) throw new Error(`no ${verb === 'GRANT' ? 'TO' : 'FROM'} in: ${line}`);
  const onIdx = findWord(tokens, 'ON', 1, toIdx);
  const tail = tokens.slice(readAccount(tokens, toIdx + 1)[1]);
  if (onIdx < 0) {
    if (verb === 'REVOKE') throw new Error(`unsupported REVOKE line: ${line}`);
    const admin = hasWords(tail, 'ADMIN', 'OPTION');
    return splitCommas(tokens.slice(1, toIdx)).flatMap((p) => {
      const role = readAccount(p, 0)[0];
      const t: GrantTuple[] = [{ kind: 'role', object: role, privilege: 'ROLE' }];
      return admin ? [...t, { kind: 'role', object: role, privilege: 'ADMIN OPTION' }] : t;
    });
  }
  const privs = parsePrivileges(tokens.slice(1, onIdx));
  const objTokens = tokens.slice(onIdx + 1, toIdx);
  const grantOption = verb === 'GRANT' && hasWords(tail, 'GRANT', 'OPTION');
  if (privs.length === 1 && privs[0].privilege === 'PROXY') {
    const object = readAccount(objTokens, 0)[0];
    const t: GrantTuple[] = [{ kind: 'proxy', object, privilege: 'PROXY' }];
    return grantOption ? [...t, { kind: 'proxy', object, privilege: 'GRANT OPTION' }] : t;
  }
  const object = parseObject(objTokens);
  const kind = verb === 'GRANT' ? 'privilege' : 'partial-revoke';
  const out: GrantTuple[] = privs
    .filter((p) => p.privilege !== 'USAGE')
    .map((p) => (p.column ? { kind, object, privilege: p.privilege, column: p.column } : { kind, object, privilege: p.privilege }));
  if (grantOption) out.push({ kind: 'privilege', object, privilege: 'GRANT OPTION' });
  return out;
}

function parseDefaultRole(tokens: Token[]): GrantTuple[] {
  const forIdx = findWord(tokens, 'FOR', 3);
  const roles = splitCommas(tokens.slice(3, forIdx < 0 ? tokens.length : forIdx));
  if (roles.length === 1 && roles[0].length === 1 && upper(roles[0][0]) === 'NONE') return [];
  return roles.map((r) => ({ kind: 'default-role' as const, object: readAccount(r, 0)[0], privilege: 'DEFAULT ROLE' }));
}

/** The comparison key of a tuple. */
export function tupleKey(t: GrantTuple): string {
  return [t.kind, t.object, t.privilege, t.column ?? ''].join('\u0000');
}

/** Parses every SHOW GRANTS line of one account into a de-duplicated, sorted tuple list. */
export function parseGrants(lines: string[], noBackslashEscapes = false): GrantTuple[] {
  const byKey = new Map<string, GrantTuple>();
  for (const line of lines) for (const t of parseGrantLine(line, noBackslashEscapes)) byKey.set(tupleKey(t), t);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
}

// ---------------------------------------------------------------------------------------------
// SHOW CREATE USER

const CLAUSE_STARTS = new Set(['IDENTIFIED', 'DEFAULT', 'REQUIRE', 'WITH', 'PASSWORD', 'ACCOUNT', 'FAILED_LOGIN_ATTEMPTS', 'PASSWORD_LOCK_TIME', 'COMMENT', 'ATTRIBUTE']);

/** Whether the word at `i` starts a new clause (and is not part of the IDENTIFIED / PASSWORD clause before it). */
function startsClause(tokens: Token[], i: number, current: string): boolean {
  const w = upper(tokens[i]);
  if (!CLAUSE_STARTS.has(w)) return false;
  const prev = upper(tokens[i - 1]);
  if (w === 'DEFAULT') return upper(tokens[i + 1]) === 'ROLE';
  if (w === 'IDENTIFIED') return prev !== 'AND'; // MySQL 8 multi-factor: … AND IDENTIFIED WITH …
  if (current === 'IDENTIFIED') {
    if (w === 'WITH' && prev === 'IDENTIFIED') return false;
    if (w === 'PASSWORD' && (prev === 'BY' || prev === 'RANDOM' || tokens[i + 1]?.value === '(')) return false;
  }
  if (w === 'REQUIRE' && prev === 'PASSWORD') return false; // PASSWORD REQUIRE CURRENT …
  return true;
}

/** Splits the statement after the account into clauses (each a token list starting with its keyword). */
function splitClauses(tokens: Token[]): Token[][] {
  const clauses: Token[][] = [];
  let current = '';
  for (let i = 0; i < tokens.length; i++) {
    if (startsClause(tokens, i, current)) {
      current = upper(tokens[i]);
      clauses.push([]);
    }
    if (clauses.length === 0) throw new Error(`unexpected "${tokens[i].value}" in a CREATE USER statement`);
    clauses[clauses.length - 1].push(tokens[i]);
  }
  return clauses;
}

/** The canonical form of a REQUIRE clause's options (tokens after REQUIRE). */
function normaliseRequire(sql: string, tokens: Token[]): string {
  const w = tokens.filter((t) => upper(t) !== 'AND');
  if (w.length === 1) return upper(w[0]);
  const opts: Record<string, string> = {};
  for (let i = 0; i + 1 < w.length; i += 2) opts[upper(w[i])] = sql.slice(w[i + 1].start, w[i + 1].end);
  return ['ISSUER', 'SUBJECT', 'CIPHER'].filter((k) => opts[k] !== undefined).map((k) => `${k} ${opts[k]}`).join(' AND ');
}

/** Reads `WITH MAX_… n …` into a name → value map (GRANT OPTION ignored). */
function parseLimits(sql: string, tokens: Token[], into: Record<string, string>): void {
  let name = '';
  for (const t of tokens) {
    if (t.type === 'word' && /^MAX_/i.test(t.value)) {
      name = t.value.toUpperCase();
      into[name] = '';
    } else if (name && upper(t) !== 'GRANT' && upper(t) !== 'OPTION') into[name] += sql.slice(t.start, t.end);
  }
}

/** Applies the clauses of one CREATE USER / ALTER USER statement (after its account) to `parts`. */
function applyClauses(sql: string, tokens: Token[], parts: CreateUserParts): void {
  for (const c of splitClauses(tokens)) {
    const text = sql.slice(c[0].start, c[c.length - 1].end);
    const w = upper(c[0]);
    if (w === 'IDENTIFIED') parts.auth = text;
    else if (w === 'DEFAULT') parts.defaultRoles = splitCommas(c.slice(2)).filter((r) => upper(r[0]) !== 'NONE').map((r) => readAccount(r, 0)[0]);
    else if (w === 'REQUIRE') parts.require = normaliseRequire(sql, c.slice(1));
    else if (w === 'WITH') parseLimits(sql, c.slice(1), parts.limits);
    else if (w === 'ACCOUNT') parts.lock = text.toUpperCase().replace(/\s+/g, ' ');
    else if (w === 'PASSWORD') parts.password.push(text);
    else parts.other.push(text);
  }
}

/**
 * Parses SHOW CREATE USER output: the CREATE USER row and any further rows (MariaDB prints an
 * `ALTER USER … PASSWORD EXPIRE INTERVAL …` row after an expired account's CREATE USER).
 */
export function parseCreateUser(rows: string[], noBackslashEscapes = false): CreateUserParts {
  const parts: CreateUserParts = { account: '', auth: '', defaultRoles: [], require: 'NONE', limits: {}, password: [], lock: '', other: [] };
  for (const sql of rows) {
    const tokens = tokenize(sql.trim().replace(/;$/, ''), noBackslashEscapes);
    let i = upper(tokens[0]) === 'CREATE' || upper(tokens[0]) === 'ALTER' ? 2 : -1;
    if (i < 0 || upper(tokens[1]) !== 'USER') throw new Error(`not a CREATE USER statement: ${sql}`);
    if (upper(tokens[i]) === 'IF') i += upper(tokens[i + 1]) === 'NOT' ? 3 : 2;
    const [account, next] = readAccount(tokens, i);
    parts.account ||= account;
    applyClauses(sql, tokens.slice(next), parts);
  }
  return parts;
}

const PASSWORD_PLUGINS = new Set(['mysql_native_password', 'caching_sha2_password', 'sha256_password', 'ed25519', 'parsec']);

/**
 * The IDENTIFIED clause giving `passwordLiteral` (an escaped SQL string) while keeping the
 * password plugin of `auth` (an account's IDENTIFIED clause) when it is one that takes passwords.
 */
export function identifiedBy(auth: string, passwordLiteral: string, flavor: Flavor): string {
  const words = tokenize(auth).filter((t) => t.type !== 'punct');
  const plugins = words.filter((_, i) => ['WITH', 'VIA', 'OR'].includes(upper(words[i - 1]))).map((t) => t.value.toLowerCase());
  const plugin = plugins.find((p) => PASSWORD_PLUGINS.has(p));
  if (!plugin) return `IDENTIFIED BY ${passwordLiteral}`;
  return flavor === 'mariadb' ? `IDENTIFIED VIA ${plugin} USING PASSWORD(${passwordLiteral})` : `IDENTIFIED WITH ${plugin} BY ${passwordLiteral}`;
}

/** Account options (REQUIRE, WITH limits, PASSWORD, ACCOUNT, …) of `parts` as SQL; an immediate PASSWORD EXPIRE is left out. */
export function accountOptionsSql(parts: CreateUserParts): string {
  const out: string[] = [];
  if (parts.require !== 'NONE') out.push(`REQUIRE ${parts.require}`);
  const limits = Object.entries(parts.limits);
  if (limits.length) out.push('WITH ' + limits.map(([k, v]) => `${k} ${v}`).join(' '));
  out.push(...parts.password.filter((p) => !/^PASSWORD\s+EXPIRE$/i.test(p.trim())));
  if (parts.lock) out.push(parts.lock);
  out.push(...parts.other);
  return out.join(' ');
}

/** CREATE USER for `target` with `auth` (an IDENTIFIED clause) and `model`'s other account options (no DEFAULT ROLE: roles come with the grants). */
export function createUserSql(model: CreateUserParts, target: string, auth: string): string {
  return [`CREATE USER ${target}`, auth, accountOptionsSql(model)].filter(Boolean).join(' ');
}

const limitValue = (v: string | undefined) => Number(v ?? 0) || 0;

/** ALTER USER making `target`'s TLS requirement and resource limits those of `primary` (undefined when equal). */
export function alterAccountSql(primary: CreateUserParts, clone: CreateUserParts, target: string): string | undefined {
  const clauses: string[] = [];
  if (primary.require !== clone.require) clauses.push(`REQUIRE ${primary.require}`);
  const names = [...new Set([...Object.keys(primary.limits), ...Object.keys(clone.limits)])].sort();
  const limits = names.filter((n) => limitValue(primary.limits[n]) !== limitValue(clone.limits[n]));
  if (limits.length) clauses.push('WITH ' + limits.map((n) => `${n} ${primary.limits[n] ?? '0'}`).join(' '));
  return clauses.length ? `ALTER USER ${target} ${clauses.join(' ')}` : undefined;
}

/** Lines naming how `b`'s TLS requirement and resource limits differ from `a`'s. */
export function describeAccountDifferences(a: CreateUserParts, b: CreateUserParts, aName: string, bName: string): string[] {
  const out: string[] = [];
  if (a.require !== b.require) out.push(`${bName} has REQUIRE ${b.require} but ${aName} has REQUIRE ${a.require}`);
  const names = [...new Set([...Object.keys(a.limits), ...Object.keys(b.limits)])].sort();
  for (const n of names) {
    if (limitValue(a.limits[n]) !== limitValue(b.limits[n])) out.push(`${bName} has ${n} ${b.limits[n] ?? '0'} but ${aName} has ${a.limits[n] ?? '0'}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Differences and the sync plan

const isSimple = (t: GrantTuple) => t.kind === 'privilege' && !t.column && t.privilege !== 'GRANT OPTION';
const hasAll = (ts: GrantTuple[], object: string) => ts.some((t) => t.kind === 'privilege' && t.object === object && t.privilege === 'ALL PRIVILEGES');

/** Tuples of `from` that `other` lacks, leaving out simple privileges `other`'s ALL PRIVILEGES on the same object covers. */
function lacking(from: GrantTuple[], other: GrantTuple[]): GrantTuple[] {
  const keys = new Set(other.map(tupleKey));
  return from.filter((t) => !keys.has(tupleKey(t)) && !(isSimple(t) && hasAll(other, t.object)));
}

/** Objects on which `clone` holds ALL PRIVILEGES and `primary` does not: the clone's ALL must be expanded before planning. */
export function objectsNeedingExpansion(primary: GrantTuple[], clone: GrantTuple[]): string[] {
  const objects = clone.filter((t) => t.kind === 'privilege' && t.privilege === 'ALL PRIVILEGES').map((t) => t.object);
  return objects.filter((o) => !hasAll(primary, o));
}

/** Replaces ALL PRIVILEGES on `object` in `tuples` by the individual `privileges` it stands for. */
export function expandAllPrivileges(tuples: GrantTuple[], object: string, privileges: string[]): GrantTuple[] {
  const rest = tuples.filter((t) => !(t.kind === 'privilege' && t.object === object && t.privilege === 'ALL PRIVILEGES'));
  const known = new Set(rest.map(tupleKey));
  const added = privileges.map((p) => ({ kind: 'privilege' as const, object, privilege: p.toUpperCase() })).filter((t) => !known.has(tupleKey(t)));
  return [...rest, ...added];
}

/** A human-readable name of what a tuple grants. */
export function describeTuple(t: GrantTuple): string {
  switch (t.kind) {
    case 'role':
      return t.privilege === 'ROLE' ? `role ${t.object}` : `ADMIN OPTION on role ${t.object}`;
    case 'proxy':
      return t.privilege === 'PROXY' ? `PROXY on ${t.object}` : `GRANT OPTION on PROXY ${t.object}`;
    case 'default-role':
      return `default role ${t.object}`;
    case 'partial-revoke':
      return `a partial revoke of ${t.privilege} on ${t.object}`;
    default:
      return `${t.privilege}${t.column ? ` (${t.column})` : ''} on ${t.object}`;
  }
}

/** Lines such as "app_clone@% lacks SELECT on `shop`.*" and "app_clone@% has INSERT on … that app@% lacks". */
export function describeGrantDifferences(a: GrantTuple[], b: GrantTuple[], aName: string, bName: string): string[] {
  return [
    ...lacking(a, b).map((t) => `${bName} lacks ${describeTuple(t)}`),
    ...lacking(b, a).map((t) => `${bName} has ${describeTuple(t)} that ${aName} lacks`),
  ];
}

/** Groups tuples by object, keeping first-seen order. */
function byObject(ts: GrantTuple[]): Map<string, GrantTuple[]> {
  const m = new Map<string, GrantTuple[]>();
  for (const t of ts) m.set(t.object, [...(m.get(t.object) ?? []), t]);
  return m;
}

/** A privilege list for GRANT / REVOKE: simple privileges, then column privileges grouped (`SELECT (`a`, `b`)`). */
export function privilegeList(ts: GrantTuple[]): string {
  const simple = [...new Set(ts.filter((t) => !t.column).map((t) => t.privilege))];
  const cols = new Map<string, string[]>();
  for (const t of ts.filter((x) => x.column)) cols.set(t.privilege, [...(cols.get(t.privilege) ?? []), t.column!]);
  return [...simple, ...[...cols].map(([p, c]) => `${p} (${c.join(', ')})`)].join(', ');
}

/** GRANT statements for the privileges `missing` on each object (with the grant option when it is missing). */
function grantPrivileges(missing: GrantTuple[], primary: GrantTuple[], target: string): string[] {
  const out: string[] = [];
  for (const [object, ts] of byObject(missing.filter((t) => t.kind === 'privilege'))) {
    const go = ts.some((t) => t.privilege === 'GRANT OPTION');
    let privs = ts.filter((t) => t.privilege !== 'GRANT OPTION');
    if (go) privs = primary.filter((t) => t.kind === 'privilege' && t.object === object && t.privilege !== 'GRANT OPTION');
    const list = privs.length ? privilegeList(privs) : 'USAGE';
    out.push(`GRANT ${list} ON ${object} TO ${target}${go ? ' WITH GRANT OPTION' : ''}`);
  }
  return out;
}

/**
 * REVOKE statements for the privileges `extra` on each object. Revoking a table-level privilege
 * also drops the same privilege's column grants, so those the primary has are granted again at once.
 */
function revokePrivileges(extra: GrantTuple[], primary: GrantTuple[], target: string): string[] {
  const out: string[] = [];
  for (const [object, ts] of byObject(extra.filter((t) => t.kind === 'privilege'))) {
    const privs = ts.filter((t) => t.privilege !== 'GRANT OPTION');
    if (privs.length) out.push(`REVOKE ${privilegeList(privs)} ON ${object} FROM ${target}`);
    const tableLevel = new Set(privs.filter((t) => !t.column).map((t) => t.privilege));
    const regrant = primary.filter((t) => t.kind === 'privilege' && t.object === object && t.column && tableLevel.has(t.privilege));
    if (regrant.length) out.push(`GRANT ${privilegeList(regrant)} ON ${object} TO ${target}`);
    if (ts.some((t) => t.privilege === 'GRANT OPTION')) out.push(`REVOKE GRANT OPTION ON ${object} FROM ${target}`);
  }
  return out;
}

/** Statements for roles, proxies and default roles (add side). */
function grantOthers(missing: GrantTuple[], extra: GrantTuple[], primary: GrantTuple[], target: string, flavor: Flavor): string[] {
  const out: string[] = [];
  for (const t of extra.filter((x) => x.kind === 'partial-revoke')) out.push(`GRANT ${t.privilege} ON ${t.object} TO ${target}`);
  for (const [role, ts] of byObject(missing.filter((t) => t.kind === 'role'))) {
    const admin = ts.some((t) => t.privilege === 'ADMIN OPTION');
    out.push(`GRANT ${role} TO ${target}${admin ? ' WITH ADMIN OPTION' : ''}`);
  }
  for (const [acct, ts] of byObject(missing.filter((t) => t.kind === 'proxy'))) {
    const go = ts.some((t) => t.privilege === 'GRANT OPTION') || primary.some((t) => t.kind === 'proxy' && t.object === acct && t.privilege === 'GRANT OPTION');
    out.push(`GRANT PROXY ON ${acct} TO ${target}${go ? ' WITH GRANT OPTION' : ''}`);
  }
  const defaults = primary.filter((t) => t.kind === 'default-role').map((t) => t.object);
  const changed = [...missing, ...extra].some((t) => t.kind === 'default-role');
  if (changed && defaults.length) out.push(setDefaultRole(defaults.join(', '), target, flavor));
  return out;
}

function setDefaultRole(roles: string, target: string, flavor: Flavor): string {
  return flavor === 'mariadb' ? `SET DEFAULT ROLE ${roles} FOR ${target}` : `SET DEFAULT ROLE ${roles} TO ${target}`;
}

/** Statements for roles, proxies and default roles (remove side). */
function revokeOthers(missing: GrantTuple[], extra: GrantTuple[], primary: GrantTuple[], target: string, flavor: Flavor): string[] {
  const out: string[] = [];
  if (!primary.some((t) => t.kind === 'default-role') && extra.some((t) => t.kind === 'default-role')) out.push(setDefaultRole('NONE', target, flavor));
  for (const t of missing.filter((x) => x.kind === 'partial-revoke')) out.push(`REVOKE ${t.privilege} ON ${t.object} FROM ${target}`);
  for (const [role, ts] of byObject(extra.filter((t) => t.kind === 'role'))) {
    if (ts.some((t) => t.privilege === 'ROLE')) out.push(`REVOKE ${role} FROM ${target}`);
    else if (flavor === 'mariadb') out.push(`REVOKE ADMIN OPTION FOR ${role} FROM ${target}`);
    else out.push(`REVOKE ${role} FROM ${target}`, `GRANT ${role} TO ${target}`); // MySQL cannot revoke only the admin option
  }
  for (const [acct, ts] of byObject(extra.filter((t) => t.kind === 'proxy'))) {
    out.push(`REVOKE PROXY ON ${acct} FROM ${target}`);
    if (!ts.some((t) => t.privilege === 'PROXY')) out.push(`GRANT PROXY ON ${acct} TO ${target}`); // only the grant option was extra
  }
  return out;
}

/**
 * Plans the statements that make `clone`'s tuples (one host entry, addressed as `target`) equal
 * `primary`'s: `add` grants what the clone lacks, `remove` then revokes what it has beyond the
 * primary. Never a blanket REVOKE ALL. The clone's ALL PRIVILEGES must have been expanded where
 * the primary lacks it (see `objectsNeedingExpansion`).
 */
export function planGrantSync(primary: GrantTuple[], clone: GrantTuple[], target: string, flavor: Flavor): SyncPlan {
  const pending = objectsNeedingExpansion(primary, clone);
  if (pending.length) throw new Error(`expand ALL PRIVILEGES on ${pending.join(', ')} before planning`);
  const missing = lacking(primary, clone);
  const extra = lacking(clone, primary);
  return {
    add: [...grantPrivileges(missing, primary, target), ...grantOthers(missing, extra, primary, target, flavor)],
    remove: [...revokeOthers(missing, extra, primary, target, flavor), ...revokePrivileges(extra, primary, target)],
  };
}
