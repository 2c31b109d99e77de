// Matching the Action, Resource and Principal elements against a request, as IAM does.
import { compilePattern, matchPattern, splitColons, wildcardMatch, type Pattern, type VariableResolver } from './pattern.js';
import type { PrincipalSet, RequestPrincipal } from './types.js';

/** True when an Action pattern covers the action: case-insensitive, with `*` and `?`. */
export function actionMatches(pattern: string, action: string): boolean {
  return wildcardMatch(pattern, action, undefined, true);
}

/** Splits an ARN into its six parts (the resource part keeps its own colons); null if not an ARN. */
export function splitArn(arn: string): string[] | null {
  const parts = splitColons(arn, 6);
  return parts.length === 6 && parts[0] === 'arn' ? parts : null;
}

const COLON = ':'.charCodeAt(0);

/** Splits a compiled pattern at its first five colons (wildcards are never colons). */
function splitUnits(units: Pattern): Pattern[] {
  const parts: Pattern[] = [];
  let start = 0;
  for (let i = 0; i < units.length && parts.length < 5; i++) {
    if (units[i] === COLON) {
      parts.push(units.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(units.slice(start));
  return parts;
}

/**
 * Matches an ARN pattern part by part, as IAM does: partition, service, region and account are each
 * matched on their own, so a wildcard there never crosses a colon; the resource part (everything
 * after the fifth colon) is matched as a whole and its wildcards may span `:` and `/`. Matching is
 * case-sensitive. Returns null when a policy variable in the pattern can't be resolved.
 * `variablesEverywhere` false keeps variables to the resource part (the Resource element's rule);
 * otherwise a variable may supply several parts at once (`${aws:PrincipalArn}`).
 */
export function arnMatch(
  pattern: string,
  arn: string,
  vars?: VariableResolver,
  variablesEverywhere = true,
): boolean | null {
  if (pattern === '*') return true;
  const fixed = !pattern.includes('${');
  const memo = variablesEverywhere ? everywhereParts : resourceParts;
  let parts = fixed ? memo.get(pattern) : undefined;
  if (parts === undefined) {
    if (variablesEverywhere) {
      const units = compilePattern(pattern, vars);
      if (units === null) return null;
      parts = splitUnits(units);
    } else {
      const compiled = splitColons(pattern, 6).map((raw, i) => compilePattern(raw, i === 5 ? vars : undefined));
      if (compiled.some((c) => c === null)) return null;
      parts = compiled as Pattern[];
    }
    if (fixed) {
      if (memo.size >= 10_000) memo.clear();
      memo.set(pattern, parts);
    }
  }
  const a = arnFields(arn);
  if (a === undefined || parts.length !== 6) return false;
  for (let i = 0; i < 6; i++) if (!matchPattern(parts[i], a[i])) return false;
  return true;
}

// A pattern without variables splits the same way every time; one request's ARN is matched against
// every statement in turn, so the last one split is kept.
const everywhereParts = new Map<string, Pattern[]>();
const resourceParts = new Map<string, Pattern[]>();
let lastArn = '';
let lastFields: readonly string[] | undefined;

/** An ARN's six parts (the resource part keeps its colons); undefined when it is not an ARN. */
function arnFields(arn: string): readonly string[] | undefined {
  if (arn === lastArn && lastFields !== undefined) return lastFields;
  const fields = arn.split(':');
  const a = fields.length < 6 || fields[0] !== 'arn' ? undefined : [...fields.slice(0, 5), fields.slice(5).join(':')];
  lastArn = arn;
  lastFields = a;
  return a;
}

/** Resource element matching: `*`, or an ARN pattern whose variables live in the resource part. */
export function resourceMatch(pattern: string, resource: string, vars?: VariableResolver): boolean | null {
  return arnMatch(pattern, resource, vars, false);
}

/** How a Principal element names a principal; `account` is delegation to the whole account. */
export type PrincipalMatch = 'wildcard' | 'exact' | 'role' | 'service' | 'federated' | 'account';

const ACCOUNT_ID = /^\d{12}$/;
const ACCOUNT_ROOT = /^arn:[a-z-]+:iam::(\d{12}):root$/;
const ROLE = /^arn:([a-z-]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const SESSION = /^arn:([a-z-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;

/** The account a Principal `AWS` value delegates to (`123456789012` or its root ARN), if it is one. */
export function accountOf(value: string): string | undefined {
  if (ACCOUNT_ID.test(value)) return value;
  return ACCOUNT_ROOT.exec(value)?.[1];
}

/** The role ARN behind an assumed-role session ARN (`arn:aws:sts::a:assumed-role/R/s` → `arn:aws:iam::a:role/R`). */
export function roleArnOfSession(sessionArn: string): string | undefined {
  const m = SESSION.exec(sessionArn);
  return m === null ? undefined : `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
}

/** True when one `AWS` principal value names the principal itself (not by account delegation). */
function namesDirectly(value: string, p: RequestPrincipal): 'exact' | 'role' | undefined {
  if (value === p.arn) return 'exact';
  const role = ROLE.exec(value);
  if (role === null) return undefined;
  if (p.type === 'role') {
    // Role names are unique within an account whatever their path.
    const own = ROLE.exec(p.arn);
    return own !== null && own[2] === role[2] && own[3] === role[3] ? 'exact' : undefined;
  }
  const session = SESSION.exec(p.arn);
  const sameRole = session !== null && session[2] === role[2] && session[3] === role[3];
  return p.type === 'assumed-role' && sameRole ? 'role' : undefined;
}

/**
 * How a Principal element names the request's principal, or undefined when it doesn't. `*` and
 * `{"AWS": "*"}` name everyone; an account id or its root ARN names every principal of that account
 * (delegation); a role ARN names its role sessions; no other wildcard exists in principals.
 */
export function principalMatch(set: PrincipalSet, p: RequestPrincipal): PrincipalMatch | undefined {
  if (set.wildcard || set.aws.includes('*')) return 'wildcard';
  if (p.type === 'service') return set.service.includes(p.arn) ? 'service' : undefined;
  if (set.federated.includes(p.arn)) return 'federated';
  let account = false;
  for (const value of set.aws) {
    const direct = namesDirectly(value, p);
    if (direct !== undefined) return direct;
    if (accountOf(value) === p.accountId) account = true;
  }
  if (account) return p.type === 'root' ? 'exact' : 'account';
  return undefined;
}

/** The identities IAM may check for a principal: its account, its role (for a session), itself. */
export function principalChain(p: RequestPrincipal): RequestPrincipal[] {
  if (p.type === 'service' || p.type === 'root') return [p];
  const partition = p.arn.split(':')[1] || 'aws';
  const root: RequestPrincipal = { arn: `arn:${partition}:iam::${p.accountId}:root`, accountId: p.accountId, type: 'root' };
  const role = p.type === 'assumed-role' ? roleArnOfSession(p.arn) : undefined;
  if (role === undefined) return [root, p];
  return [root, { arn: role, accountId: p.accountId, type: 'role' }, p];
}

/** True when a principal element names this one identity exactly (an account names only itself). */
function namesExactly(set: PrincipalSet, link: RequestPrincipal): boolean {
  if (set.wildcard || set.aws.includes('*')) return true;
  if (link.type === 'service') return set.service.includes(link.arn);
  if (link.type === 'root') return set.aws.some((v) => accountOf(v) === link.accountId);
  if (link.type === 'role') return set.aws.some((v) => namesDirectly(v, link) !== undefined);
  return set.aws.includes(link.arn) || set.federated.includes(link.arn);
}

/**
 * True when a NotPrincipal element exempts the principal. IAM may check each identity in the chain
 * (account, then role, then session or user), and NotPrincipal matches ARNs exactly: listing the
 * account exempts the account, not its users; listing a role does not exempt its sessions. So every
 * link must be listed, which is why AWS asks for the account ARN (and the role ARN for a session)
 * next to the exempted principal.
 */
export function notPrincipalExempts(set: PrincipalSet, p: RequestPrincipal): boolean {
  return principalChain(p).every((link) => namesExactly(set, link));
}
