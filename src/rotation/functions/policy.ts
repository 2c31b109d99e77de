import type { FunctionRecord } from '../../storage/types.js';
import { LambdaErrors, lambdaError } from './errors.js';

/** One statement of a function's resource policy, as Lambda writes it. */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: '*' | { Service?: string | string[]; AWS?: string | string[] };
  Action: string | string[];
  Resource: string;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** A function's resource policy document (GetPolicy returns it as a JSON string). */
export interface PolicyDocument {
  Version: string;
  Id: string;
  Statement: PolicyStatement[];
}

/** The AddPermission fields this API honours. */
export interface AddPermissionInput {
  StatementId?: unknown;
  Action?: unknown;
  Principal?: unknown;
  SourceArn?: unknown;
  SourceAccount?: unknown;
  PrincipalOrgID?: unknown;
  EventSourceToken?: unknown;
  FunctionUrlAuthType?: unknown;
}

/** Lambda's limit on a function policy's size. */
export const MAX_POLICY_BYTES = 20_480;

/** Parses a stored policy; undefined when there is none (or it has no statements). */
export function parsePolicy(policy: string | null): PolicyDocument | undefined {
  if (!policy) return undefined;
  try {
    const doc = JSON.parse(policy) as PolicyDocument;
    return Array.isArray(doc.Statement) && doc.Statement.length > 0 ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** How Lambda writes an AddPermission Principal into a statement. */
export function principalOf(p: string): PolicyStatement['Principal'] {
  if (p === '*') return '*';
  if (/^\d{12}$/.test(p)) return { AWS: `arn:aws:iam::${p}:root` };
  if (/^arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:\S+$/.test(p)) return { AWS: p };
  if (/^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$/.test(p)) return { Service: p };
  throw LambdaErrors.invalidParameter('The provided principal was invalid. Please check the principal and try again.');
}

function requireString(v: unknown, field: string, pattern: RegExp, max = 1024): string {
  if (typeof v !== 'string' || v.length === 0) throw LambdaErrors.invalidParameter(`${field} is required.`);
  if (v.length > max || !pattern.test(v)) {
    throw LambdaErrors.invalidParameter(
      `1 validation error detected: Value '${v}' at '${field[0].toLowerCase() + field.slice(1)}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source.slice(1, -1)}`,
    );
  }
  return v;
}

function optionalString(v: unknown, field: string, pattern: RegExp): string | undefined {
  return v === undefined || v === null ? undefined : requireString(v, field, pattern);
}

/** Adds an AddPermission statement; returns the new policy JSON and the statement. */
export function addStatement(fn: FunctionRecord, input: AddPermissionInput): { policy: string; statement: PolicyStatement } {
  const sid = requireString(input.StatementId, 'StatementId', /^[a-zA-Z0-9-_]+$/, 100);
  const action = requireString(input.Action, 'Action', /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/);
  const principal = principalOf(requireString(input.Principal, 'Principal', /^\S+$/));
  const sourceArn = optionalString(input.SourceArn, 'SourceArn', /^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$/);
  const sourceAccount = optionalString(input.SourceAccount, 'SourceAccount', /^\d{12}$/);
  const orgId = optionalString(input.PrincipalOrgID, 'PrincipalOrgID', /^o-[a-z0-9]{10,32}$/);
  const token = optionalString(input.EventSourceToken, 'EventSourceToken', /^[a-zA-Z0-9._-]+$/);
  const urlAuth = optionalString(input.FunctionUrlAuthType, 'FunctionUrlAuthType', /^(NONE|AWS_IAM)$/);

  const doc: PolicyDocument = parsePolicy(fn.policy) ?? { Version: '2012-10-17', Id: 'default', Statement: [] };
  if (doc.Statement.some((s) => s.Sid === sid)) {
    throw LambdaErrors.conflict('The statement id (sid) provided already exists. Please provide a new statement id, or remove the existing statement.');
  }
  const statement: PolicyStatement = { Sid: sid, Effect: 'Allow', Principal: principal, Action: action, Resource: fn.arn };
  const condition: Record<string, Record<string, string>> = {};
  const put = (op: string, key: string, value: string) => (condition[op] = { ...condition[op], [key]: value });
  if (sourceAccount) put('StringEquals', 'AWS:SourceAccount', sourceAccount);
  if (orgId) put('StringEquals', 'aws:PrincipalOrgID', orgId);
  if (token) put('StringEquals', 'lambda:EventSourceToken', token);
  if (urlAuth) put('StringEquals', 'lambda:FunctionUrlAuthType', urlAuth);
  if (sourceArn) put('ArnLike', 'AWS:SourceArn', sourceArn);
  if (Object.keys(condition).length > 0) statement.Condition = condition;
  doc.Statement.push(statement);
  const policy = JSON.stringify(doc);
  const size = Buffer.byteLength(policy);
  if (size > MAX_POLICY_BYTES) {
    throw lambdaError('PolicyLengthExceededException', `The final policy size (${size}) is bigger than the limit (${MAX_POLICY_BYTES}).`);
  }
  return { policy, statement };
}

/** Removes the statement with this Sid; returns the new policy JSON (null when none is left). */
export function removeStatement(fn: FunctionRecord, sid: string): string | null {
  const doc = parsePolicy(fn.policy);
  if (!doc) throw LambdaErrors.notFound('No policy is associated with the given resource.');
  const rest = doc.Statement.filter((s) => s.Sid !== sid);
  if (rest.length === doc.Statement.length) throw LambdaErrors.notFound(`Statement ${sid} is not found in resource policy.`);
  return rest.length === 0 ? null : JSON.stringify({ ...doc, Statement: rest });
}

/** IAM-style wildcard match (* and ?), case-sensitive unless told otherwise. */
function like(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function actionAllows(action: string | string[]): boolean {
  return asList(action).some((a) => like(a, 'lambda:InvokeFunction', true));
}

function principalMatches(p: PolicyStatement['Principal'], service: string): boolean {
  if (p === '*') return true;
  if (typeof p !== 'object' || p === null) return false;
  return asList(p.Service).includes(service) || asList(p.AWS).includes('*');
}

/** Evaluates one condition operator on a value; undefined for an operator this evaluator does not know. */
function operatorHolds(op: string, patterns: string[], value: string): boolean | undefined {
  const base = op.replace(/IfExists$/, '');
  switch (base) {
    case 'StringEquals': case 'ArnEquals': return patterns.includes(value);
    case 'StringEqualsIgnoreCase': return patterns.some((p) => p.toLowerCase() === value.toLowerCase());
    case 'StringLike': case 'ArnLike': return patterns.some((p) => like(p, value));
    case 'StringNotEquals': case 'ArnNotEquals': return !patterns.includes(value);
    case 'StringNotLike': case 'ArnNotLike': return !patterns.some((p) => like(p, value));
    default: return undefined;
  }
}

/**
 * Whether a statement's conditions hold for the request context. A key the caller did not give
 * (sourceArn/sourceAccount undefined) is not evaluated when `lenient`, and fails the condition
 * otherwise; keys other than AWS:SourceArn and AWS:SourceAccount never hold.
 */
function conditionsHold(cond: PolicyStatement['Condition'], ctx: Record<string, string | undefined>, lenient: boolean): boolean {
  for (const [op, keys] of Object.entries(cond ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      const k = key.toLowerCase();
      if (!(k in ctx)) return false;
      const value = ctx[k];
      if (value === undefined) {
        if (lenient || op.endsWith('IfExists')) continue;
        return false;
      }
      if (operatorHolds(op, asList(values), value) !== true) return false;
    }
  }
  return true;
}

/**
 * True when the function's policy lets the service principal (e.g. secretsmanager.amazonaws.com)
 * invoke it: an Allow statement for lambda:InvokeFunction (or lambda:*, *) naming the service or "*",
 * whose AWS:SourceArn / AWS:SourceAccount conditions hold for the values given (conditions on a value
 * not given are not evaluated), and no Deny statement that matches.
 */
export function allowsInvoke(fn: FunctionRecord, principalService: string, sourceArn?: string, sourceAccount?: string): boolean {
  const doc = parsePolicy(fn.policy);
  if (!doc) return false;
  const ctx = { 'aws:sourcearn': sourceArn, 'aws:sourceaccount': sourceAccount };
  let allowed = false;
  for (const s of doc.Statement) {
    if (!actionAllows(s.Action) || !principalMatches(s.Principal, principalService)) continue;
    if (s.Effect === 'Deny' && conditionsHold(s.Condition, ctx, false)) return false;
    if (s.Effect === 'Allow' && conditionsHold(s.Condition, ctx, true)) allowed = true;
  }
  return allowed;
}
