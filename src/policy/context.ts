// The request context as conditions and policy variables see it.
import type { ContextLookup } from './conditions/index.js';
import { roleArnOfSession } from './match.js';
import type { VariableResolver } from './pattern.js';
import type { AccessRequest, ContextValue, RequestPrincipal } from './types.js';

/** A request context with case-insensitive keys and string-list values. */
export interface EvaluationContext {
  readonly lookup: ContextLookup;
  /** Resolves single-valued keys for `${...}`; multi-valued keys can't be policy variables. */
  readonly variables: VariableResolver;
}

/** Normalises one context value to strings; undefined stays absent. */
function toStrings(value: ContextValue): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(String);
  return [String(value)];
}

const PRINCIPAL_TYPE: Record<RequestPrincipal['type'], string | undefined> = {
  root: 'Account',
  user: 'User',
  role: 'AssumedRole',
  'assumed-role': 'AssumedRole',
  service: undefined,
};

/** The global keys IAM derives from the principal (aws:PrincipalArn, aws:username, ...). */
export function principalKeys(p: RequestPrincipal): Record<string, string> {
  if (p.type === 'service') return { 'aws:PrincipalServiceName': p.arn };
  const keys: Record<string, string> = {
    'aws:PrincipalArn': p.type === 'assumed-role' ? (roleArnOfSession(p.arn) ?? p.arn) : p.arn,
    'aws:PrincipalAccount': p.accountId,
  };
  const type = PRINCIPAL_TYPE[p.type];
  if (type !== undefined) keys['aws:PrincipalType'] = type;
  if (p.type === 'user') keys['aws:username'] = p.username ?? p.arn.slice(p.arn.lastIndexOf('/') + 1);
  return keys;
}

/**
 * Builds the evaluation context: the request's own keys first, then what IAM derives (principal
 * keys, aws:CurrentTime / aws:EpochTime from `now`), and Secrets Manager's resource tags under both
 * names (aws:ResourceTag/k and secretsmanager:ResourceTag/k).
 */
export function buildContext(request: AccessRequest): EvaluationContext {
  const map = new Map<string, readonly string[]>();
  const put = (key: string, value: ContextValue, override: boolean) => {
    const values = toStrings(value);
    const k = key.toLowerCase();
    if (values !== undefined && (override || !map.has(k))) map.set(k, values);
  };
  for (const [key, value] of Object.entries(request.context)) put(key, value, true);
  for (const [key, value] of Object.entries(principalKeys(request.principal))) put(key, value, false);
  if (request.now !== undefined) {
    put('aws:CurrentTime', request.now.toISOString().replace(/\.\d{3}Z$/, 'Z'), false);
    put('aws:EpochTime', String(Math.floor(request.now.getTime() / 1000)), false);
  }
  for (const [k, v] of [...map]) {
    if (k.startsWith('aws:resourcetag/')) put(`secretsmanager:resourcetag/${k.slice(16)}`, v, false);
    else if (k.startsWith('secretsmanager:resourcetag/')) put(`aws:resourcetag/${k.slice(27)}`, v, false);
  }
  const lookup: ContextLookup = (key) => map.get(key.toLowerCase());
  const variables: VariableResolver = (name) => {
    const values = map.get(name.toLowerCase());
    return values !== undefined && values.length === 1 ? values[0] : undefined;
  };
  return { lookup, variables };
}
