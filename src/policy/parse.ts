// Parsing and validating policy documents into the normalised model, with messages that name the
// statement and the element at fault.
import { parseOperator, validateValue } from './conditions/index.js';
import { splitArn } from './match.js';
import type { ConditionClause, Policy, PolicyKind, PolicyVersion, PrincipalSet, Statement } from './types.js';

/** A malformed policy document; `problems` lists every fault found, each naming where it is. */
export class PolicySyntaxError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems: ${problems.join('; ')}`);
    this.name = 'PolicySyntaxError';
    this.problems = problems;
  }
}

/** Options for parsing: the policy's kind enables kind-specific checks; the name labels messages. */
export interface ParseOptions {
  readonly kind?: PolicyKind;
  readonly name?: string;
}

const TOP = ['Version', 'Id', 'Statement'];
const STATEMENT = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];
const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'];
const VERSIONS: readonly string[] = ['2012-10-17', '2008-10-17'];
const ACTION = /^[A-Za-z0-9_*?-]+:[A-Za-z0-9_*?-]+$/;
const AWS_PRINCIPAL = /^(\d{12}|arn:[a-z-]+:(iam|sts)::\d{12}:.+)$/;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/** Reports element names that aren't allowed, hinting at a case slip. */
function unknownKeys(obj: Json, allowed: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase());
    problems.push(`${where}: unknown element "${key}"${near ? ` (did you mean "${near}"?)` : ` (expected one of ${allowed.join(', ')})`}`);
  }
}

/** A string or a non-empty array of strings, as a list; reports anything else. */
function stringList(value: unknown, where: string, problems: string[]): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) return value as string[];
  problems.push(`${where} must be a string or a non-empty list of strings, not ${show(value)}`);
  return [];
}

function parseActions(value: unknown, where: string, problems: string[]): string[] {
  const list = stringList(value, where, problems);
  for (const a of list) {
    if (a !== '*' && !ACTION.test(a)) {
      problems.push(`${where}: "${a}" must be "*" or service:action, e.g. "secretsmanager:GetSecretValue"`);
    }
  }
  return list;
}

function parseResources(value: unknown, where: string, problems: string[]): string[] {
  const list = stringList(value, where, problems);
  for (const r of list) {
    if (r !== '*' && splitArn(r) === null) {
      problems.push(`${where}: "${r}" must be "*" or an ARN (arn:partition:service:region:account:resource)`);
    }
  }
  return list;
}

function parsePrincipal(value: unknown, where: string, problems: string[]): PrincipalSet {
  const set = { wildcard: false, aws: [] as string[], service: [] as string[], federated: [] as string[], canonicalUser: [] as string[] };
  if (value === '*') return { ...set, wildcard: true };
  if (!isObject(value) || Object.keys(value).length === 0) {
    problems.push(`${where} must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:role/name"}, not ${show(value)}`);
    return set;
  }
  unknownKeys(value, PRINCIPAL_TYPES, where, problems);
  const lists: Record<string, string[]> = { AWS: set.aws, Service: set.service, Federated: set.federated, CanonicalUser: set.canonicalUser };
  for (const [type, raw] of Object.entries(value)) {
    const target = lists[type];
    if (target === undefined) continue;
    for (const v of stringList(raw, `${where} ${type}`, problems)) {
      if (type === 'AWS' && v !== '*' && !AWS_PRINCIPAL.test(v)) {
        problems.push(`${where} AWS: "${v}" must be "*", a 12-digit account id or an IAM/STS ARN`);
      } else if (v !== '*' && /[*?]/.test(v)) {
        problems.push(`${where} ${type}: "${v}" can't contain wildcards (use "*" alone, or aws:PrincipalArn with ArnLike)`);
      }
      target.push(v);
    }
  }
  return set;
}

function parseCondition(value: unknown, where: string, variables: boolean, problems: string[]): ConditionClause[] {
  if (!isObject(value)) {
    problems.push(`${where} must be an object of operators, e.g. {"StringEquals": {"aws:username": "alice"}}`);
    return [];
  }
  const clauses: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const parsed = parseOperator(operator);
    if (typeof parsed === 'string') {
      problems.push(`${where}: ${parsed}`);
      continue;
    }
    if (!isObject(block) || Object.keys(block).length === 0) {
      problems.push(`${where} ${operator} must be a non-empty object of condition keys and values`);
      continue;
    }
    for (const [key, raw] of Object.entries(block)) {
      const at = `${where} ${operator} "${key}"`;
      if (!/^[^:\s]+:\S+$/.test(key)) {
        problems.push(`${at}: a condition key needs a service prefix, e.g. "aws:SourceIp" or "secretsmanager:VersionStage"`);
        continue;
      }
      const items = Array.isArray(raw) ? raw : [raw];
      const ok = items.length > 0 && items.every((v) => ['string', 'number', 'boolean'].includes(typeof v));
      if (!ok) {
        problems.push(`${at} must be a string, number or boolean, or a non-empty list of them, not ${show(raw)}`);
        continue;
      }
      const values = items.map(String);
      for (const v of values) {
        const problem = validateValue(parsed.base, v, variables);
        if (problem !== undefined) problems.push(`${at}: ${problem}`);
      }
      clauses.push({ operator, base: parsed.base, set: parsed.set, ifExists: parsed.ifExists, key, values });
    }
  }
  return clauses;
}

/** Exactly one element of a pair (Action/NotAction...) must be present when `required`. */
function pairOf(st: Json, a: string, b: string, where: string, required: boolean, problems: string[]): string | undefined {
  if (a in st && b in st) problems.push(`${where} has both ${a} and ${b}; use one`);
  else if (a in st) return a;
  else if (b in st) return b;
  else if (required) problems.push(`${where} has neither ${a} nor ${b}`);
  return undefined;
}

function parseStatement(st: unknown, index: number, version: PolicyVersion, kind: PolicyKind | undefined, problems: string[]): Statement | undefined {
  let where = `Statement ${index + 1}`;
  if (!isObject(st)) {
    problems.push(`${where} must be an object, not ${show(st)}`);
    return undefined;
  }
  if (typeof st.Sid === 'string' && st.Sid !== '') where += ` (Sid "${st.Sid}")`;
  unknownKeys(st, STATEMENT, where, problems);
  if ('Sid' in st && typeof st.Sid !== 'string') problems.push(`${where}: Sid must be a string, not ${show(st.Sid)}`);
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') {
    problems.push(`${where}: Effect must be "Allow" or "Deny", ${'Effect' in st ? `not ${show(st.Effect)}` : 'and is missing'}`);
  }
  const action = pairOf(st, 'Action', 'NotAction', where, true, problems);
  const resource = pairOf(st, 'Resource', 'NotResource', where, true, problems);
  const principal = pairOf(st, 'Principal', 'NotPrincipal', where, kind === 'resource', problems);
  if (principal !== undefined && kind === 'identity') {
    problems.push(`${where}: an identity-based policy can't have ${principal}; the principal is whoever the policy is attached to`);
  }
  const actions = action === undefined ? [] : parseActions(st[action], `${where} ${action}`, problems);
  const resources = resource === undefined ? [] : parseResources(st[resource], `${where} ${resource}`, problems);
  const principals = principal === undefined ? undefined : parsePrincipal(st[principal], `${where} ${principal}`, problems);
  const conditions = 'Condition' in st ? parseCondition(st.Condition, `${where} Condition`, version === '2012-10-17', problems) : [];
  return {
    index,
    sid: typeof st.Sid === 'string' && st.Sid !== '' ? st.Sid : undefined,
    effect: st.Effect === 'Deny' ? 'Deny' : 'Allow',
    ...(action === 'Action' ? { action: actions } : { notAction: actions }),
    ...(resource === 'Resource' ? { resource: resources } : { notResource: resources }),
    ...(principal === 'Principal' ? { principal: principals } : principal === 'NotPrincipal' ? { notPrincipal: principals } : {}),
    conditions,
  };
}

/** Parses a document without throwing: the policy when it is valid, and every problem found. */
export function checkPolicy(document: unknown, options: ParseOptions = {}): { policy?: Policy; problems: string[] } {
  const problems: string[] = [];
  let doc = document;
  if (typeof doc === 'string') {
    if (doc.trim() === '') return { problems: ['The policy document is empty'] };
    try {
      doc = JSON.parse(doc);
    } catch (e) {
      return { problems: [`The policy document is not valid JSON: ${(e as Error).message}`] };
    }
  }
  if (!isObject(doc)) return { problems: [`The policy document must be a JSON object, not ${show(doc)}`] };
  unknownKeys(doc, TOP, 'The policy', problems);
  const version = doc.Version ?? '2008-10-17';
  if (typeof version !== 'string' || !VERSIONS.includes(version)) {
    problems.push(`Version must be "2012-10-17" or "2008-10-17", not ${show(version)}`);
  }
  if ('Id' in doc && typeof doc.Id !== 'string') problems.push(`Id must be a string, not ${show(doc.Id)}`);
  const raw = doc.Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (list.length === 0) problems.push('The policy has no Statement');
  const v: PolicyVersion = version === '2012-10-17' ? '2012-10-17' : '2008-10-17';
  const statements = list.map((st, i) => parseStatement(st, i, v, options.kind, problems));
  const seen = new Map<string, number>();
  for (const st of statements) {
    if (st?.sid === undefined) continue;
    const first = seen.get(st.sid);
    if (first !== undefined) problems.push(`Statements ${first + 1} and ${st.index + 1} share the Sid "${st.sid}"; Sids must be unique`);
    else seen.set(st.sid, st.index);
  }
  if (problems.length > 0) return { problems };
  const policy: Policy = {
    version: v,
    ...(typeof doc.Id === 'string' ? { id: doc.Id } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    statements: statements as Statement[],
  };
  return { policy, problems };
}

/** Parses and validates a policy document (JSON text or object); throws PolicySyntaxError. */
export function parsePolicy(document: unknown, options: ParseOptions = {}): Policy {
  const { policy, problems } = checkPolicy(document, options);
  if (policy === undefined) throw new PolicySyntaxError(problems);
  return policy;
}
