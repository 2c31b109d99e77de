import { checkPolicy } from '../policy/parse.js';
import type { Policy } from '../policy/types.js';
import { IamErrors, IamMessages } from './errors.js';

/*
 * Validation of the policy documents IAM stores: inline (identity) policies and roles' trust
 * policies. The faults IAM names in its own words (bad JSON, a Principal in an identity policy, a
 * Resource in a trust policy, missing fields) come first, in those words; anything else the policy
 * parser finds is reported with the parser's message, which names the statement and element.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** IAM's words for the structural faults it names; undefined when the document passes them. */
function structuralFault(doc: unknown, kind: 'identity' | 'trust'): string | undefined {
  if (!isObject(doc)) return IamMessages.syntax;
  if ('Version' in doc && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') return 'The policy must contain a valid version string';
  if (!('Statement' in doc)) return 'Missing required field Statement';
  const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  for (const st of list) {
    if (!isObject(st)) return IamMessages.syntax;
    if (kind === 'identity' && ('Principal' in st || 'NotPrincipal' in st)) return 'Policy document should not specify a principal.';
    if (kind === 'trust' && ('Resource' in st || 'NotResource' in st)) return 'Has prohibited field Resource';
    if (!('Effect' in st)) return 'Missing required field Effect';
    if (kind === 'trust' && !('Principal' in st) && !('NotPrincipal' in st)) return 'Missing required field Principal';
    if (!('Action' in st) && !('NotAction' in st)) return 'Policy statement must contain actions.';
    if (kind === 'identity' && !('Resource' in st) && !('NotResource' in st)) return 'Policy statement must contain resources.';
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw IamErrors.malformedPolicy(IamMessages.syntax);
  }
}

/** Validates an inline (identity-based) policy; returns it parsed or throws MalformedPolicyDocument. */
export function identityPolicy(text: string, name?: string): Policy {
  const doc = parseJson(text);
  const fault = structuralFault(doc, 'identity');
  if (fault !== undefined) throw IamErrors.malformedPolicy(fault);
  const { policy, problems } = checkPolicy(doc, { kind: 'identity', ...(name !== undefined ? { name } : {}) });
  if (policy === undefined) throw IamErrors.malformedPolicy(problems[0] ?? IamMessages.syntax);
  return policy;
}

/**
 * Validates a role's trust policy (no Resource; a Principal in every statement); returns it parsed
 * as a resource policy whose statements cover any resource, which is how the evaluator reads it
 * for `sts:AssumeRole` on the role.
 */
export function trustPolicy(text: string): Policy {
  const doc = parseJson(text);
  const fault = structuralFault(doc, 'trust');
  if (fault !== undefined) throw IamErrors.malformedPolicy(fault);
  const d = doc as Json;
  const list = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  const withResource = { ...d, Statement: (list as Json[]).map((st) => ({ ...st, Resource: '*' })) };
  const { policy, problems } = checkPolicy(withResource, { kind: 'resource', name: 'trust policy' });
  if (policy === undefined) throw IamErrors.malformedPolicy(problems[0] ?? IamMessages.syntax);
  return policy;
}

/** The `AWS` principal values a policy's Principal elements name. */
export function awsPrincipals(policy: Policy): string[] {
  return policy.statements.flatMap((st) => [...(st.principal?.aws ?? []), ...(st.notPrincipal?.aws ?? [])]);
}

/** The size IAM counts against its policy quotas: characters other than white space. */
export function policySize(text: string): number {
  return text.replace(/\s+/g, '').length;
}

/** A policy document as IAM returns it: URL-encoded (botocore and the CLI decode it again). */
export function encodePolicyDocument(text: string): string {
  return encodeURIComponent(text);
}
