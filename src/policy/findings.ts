// Checks on a secret's resource policy for ValidateResourcePolicy and BlockPublicPolicy.
import { operations } from '../protocols/generated/secretsmanager-model.js';
import { parseCidr } from './conditions/ip.js';
import { actionMatches, resourceMatch, splitArn } from './match.js';
import { checkPolicy } from './parse.js';
import type { ConditionClause, Policy, Statement } from './types.js';

/** One problem found in a resource policy, in the shape of ValidateResourcePolicy's entries. */
export interface Finding {
  readonly checkName: string;
  readonly message: string;
  /** `error` fails validation; `warning` is advice. */
  readonly severity: 'error' | 'warning';
  /** Zero-based statement index, when the finding is about one statement. */
  readonly statement?: number;
}

/** Every Secrets Manager action (`secretsmanager:GetSecretValue`, ...), from the API model. */
export const SECRETS_MANAGER_ACTIONS: readonly string[] = Object.keys(operations).map((op) => `secretsmanager:${op}`);

// Keys that pin who (or from where) may use a public grant, as AWS's "public" analysis counts them.
const RESTRICTING_KEYS = new Set(
  [
    'aws:PrincipalAccount', 'aws:PrincipalArn', 'aws:PrincipalOrgID', 'aws:PrincipalOrgPaths', 'aws:userid',
    'aws:PrincipalServiceName', 'aws:PrincipalServiceNamesList', 'aws:SourceAccount', 'aws:SourceArn',
    'aws:SourceOwner', 'aws:SourceOrgID', 'aws:SourceOrgPaths', 'aws:SourceVpc', 'aws:SourceVpce', 'aws:SourceIp',
  ].map((k) => k.toLowerCase()),
);
const ARN_KEYS = new Set(['aws:principalarn', 'aws:sourcearn']);
const POSITIVE = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike', 'IpAddress']);

/** True when a CIDR is narrow enough not to count as public: /8 or narrower (IPv4), /32 (IPv6), or private. */
function narrowRange(value: string): boolean {
  const range = parseCidr(value);
  if (range === undefined) return false;
  if (range.bytes.length === 16) return range.prefix >= 32;
  const [a, b] = range.bytes;
  const rfc1918 = (a === 10 && range.prefix >= 8) || (a === 172 && (b & 0xf0) === 16 && range.prefix >= 12) || (a === 192 && b === 168 && range.prefix >= 16);
  return rfc1918 || range.prefix >= 8;
}

/** A fixed value: no wildcard, no variable; ARN keys may wildcard the resource part with a fixed account. */
function fixedValue(key: string, value: string): boolean {
  if (value.includes('${')) return false;
  if (!/[*?]/.test(value)) return true;
  const arn = ARN_KEYS.has(key) ? splitArn(value) : null;
  return arn !== null && /^\d{12}$/.test(arn[4]);
}

/** True when one clause limits a grant to fixed principals, accounts, organizations, networks or sources. */
function restricts(c: ConditionClause): boolean {
  const key = c.key.toLowerCase();
  if (!RESTRICTING_KEYS.has(key) || c.ifExists || c.set === 'ForAllValues' || !POSITIVE.has(c.base)) return false;
  if (key === 'aws:sourceip') return c.values.every(narrowRange);
  return c.values.every((v) => fixedValue(key, v));
}

/** True when an Allow statement grants access to anyone: a wildcard, federated or NotPrincipal grant without a restricting condition. */
export function isPublicStatement(st: Statement): boolean {
  if (st.effect !== 'Allow') return false;
  const p = st.principal;
  const broad = st.notPrincipal !== undefined || (p !== undefined && (p.wildcard || p.aws.includes('*') || p.federated.length > 0));
  return broad && !st.conditions.some(restricts);
}

/**
 * AWS's notion of a public resource policy (BlockPublicPolicy): some Allow statement grants access
 * to `*` / `{"AWS": "*"}` (or via NotPrincipal or a federated identity provider) without a condition
 * that pins fixed values of the principal's account, ARN or organization, the source account, ARN,
 * VPC or endpoint, or a narrow aws:SourceIp range.
 */
export function isPublic(resourcePolicy: Policy): boolean {
  return resourcePolicy.statements.some(isPublicStatement);
}

function statementFindings(st: Statement, resourceArn: string | undefined): Finding[] {
  const out: Finding[] = [];
  const at = `Statement ${st.index + 1}${st.sid !== undefined ? ` (Sid "${st.sid}")` : ''}`;
  const add = (checkName: string, severity: Finding['severity'], message: string) =>
    out.push({ checkName, severity, message: `${at}: ${message}`, statement: st.index });
  if (st.principal === undefined && st.notPrincipal === undefined) {
    add('MISSING_PRINCIPAL', 'error', 'a resource policy statement must have a Principal or NotPrincipal');
  }
  if (isPublicStatement(st)) add('PUBLIC_ACCESS', 'error', 'grants broad access to the secret (for example a wildcard principal without a condition that restricts it)');
  if (st.effect === 'Allow' && st.notPrincipal !== undefined) add('NOT_PRINCIPAL_WITH_ALLOW', 'warning', 'NotPrincipal with Allow grants access to every principal except the ones listed');
  for (const a of [...(st.action ?? []), ...(st.notAction ?? [])]) {
    if (a === '*') continue;
    const service = a.slice(0, a.indexOf(':')).toLowerCase();
    if (service !== 'secretsmanager') add('UNSUPPORTED_ACTION', 'warning', `"${a}" is not a Secrets Manager action and has no effect in a secret's policy`);
    else if (!SECRETS_MANAGER_ACTIONS.some((known) => actionMatches(a, known))) add('UNKNOWN_ACTION', 'warning', `"${a}" matches no Secrets Manager action`);
  }
  if (resourceArn !== undefined && st.resource !== undefined && !st.resource.some((r) => resourceMatch(r, resourceArn) !== false)) {
    add('RESOURCE_MISMATCH', 'warning', `Resource doesn't cover this secret (${resourceArn}), so the statement has no effect`);
  }
  const locks = ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'];
  const everyone = st.principal?.wildcard === true || st.principal?.aws.includes('*') === true;
  const coversAll = st.resource?.includes('*') === true;
  const hits = (action: string) => (st.action !== undefined ? st.action.some((p) => actionMatches(p, action)) : !(st.notAction ?? []).some((p) => actionMatches(p, action)));
  if (st.effect === 'Deny' && everyone && coversAll && st.conditions.length === 0 && locks.every(hits)) {
    add('LOCKOUT', 'error', 'denies everyone PutResourcePolicy and DeleteResourcePolicy, so nobody could change this policy again');
  }
  return out;
}

/**
 * ValidateResourcePolicy-style checks on a secret's resource policy (JSON text or object): syntax,
 * missing principals, public access, lock-out, and actions that can't apply to a secret. Pass the
 * secret's ARN to also report statements whose Resource doesn't cover it.
 */
export function findings(document: unknown, options: { resourceArn?: string } = {}): Finding[] {
  const { policy, problems } = checkPolicy(document);
  if (policy === undefined) return problems.map((message) => ({ checkName: 'SYNTAX', severity: 'error', message }));
  return policy.statements.flatMap((st) => statementFindings(st, options.resourceArn));
}
