// Deciding a request against the principal's identity policies and the secret's resource policy,
// with IAM's evaluation logic, and AWS's access-denied messages.
import { failingClause } from './conditions/index.js';
import { buildContext, type EvaluationContext } from './context.js';
import { actionMatches, notPrincipalExempts, principalMatch, resourceMatch, type PrincipalMatch } from './match.js';
import type { AccessRequest, Decision, EvaluationResult, MatchedStatement, Policy, PolicyKind, PolicySet, PolicyType, Statement } from './types.js';

/** A statement whose Action, Resource and Principal cover the request (conditions not yet checked). */
interface Candidate {
  readonly matched: MatchedStatement;
  readonly statement: Statement;
  readonly principal?: PrincipalMatch;
  /** Why its Condition block fails, or undefined when it holds. */
  readonly failed?: string;
}

function coversAction(st: Statement, action: string): boolean {
  if (st.action !== undefined) return st.action.some((p) => actionMatches(p, action));
  return !(st.notAction ?? []).some((p) => actionMatches(p, action));
}

/** Resource / NotResource; a pattern whose variable can't be resolved matches nothing, and makes a NotResource statement inapplicable. */
function coversResource(st: Statement, resource: string, ctx: EvaluationContext, policy: Policy): boolean {
  const vars = policy.version === '2012-10-17' ? ctx.variables : undefined;
  if (st.resource !== undefined) return st.resource.some((p) => resourceMatch(p, resource, vars) === true);
  const results = (st.notResource ?? []).map((p) => resourceMatch(p, resource, vars));
  return !results.some((r) => r !== false);
}

/** How a resource policy statement's Principal / NotPrincipal covers the principal, if it does. */
function coversPrincipal(st: Statement, request: AccessRequest): PrincipalMatch | undefined {
  if (st.principal !== undefined) return principalMatch(st.principal, request.principal);
  if (st.notPrincipal !== undefined) return notPrincipalExempts(st.notPrincipal, request.principal) ? undefined : 'wildcard';
  return undefined;
}

function candidates(policy: Policy, kind: PolicyKind, index: number, request: AccessRequest, ctx: EvaluationContext): Candidate[] {
  const out: Candidate[] = [];
  const vars = policy.version === '2012-10-17' ? ctx.variables : undefined;
  for (const st of policy.statements) {
    if (!coversAction(st, request.action) || !coversResource(st, request.resource, ctx, policy)) continue;
    const principal = kind === 'resource' ? coversPrincipal(st, request) : undefined;
    if (kind === 'resource' && principal === undefined) continue;
    const bad = failingClause(st.conditions, ctx.lookup, vars);
    const matched: MatchedStatement = {
      policy: kind,
      policyIndex: index,
      ...(policy.name !== undefined ? { policyName: policy.name } : {}),
      statementIndex: st.index,
      ...(st.sid !== undefined ? { sid: st.sid } : {}),
      effect: st.effect,
    };
    const failed = bad === undefined ? undefined : `its condition ${bad.operator} on ${bad.key} is not met`;
    out.push({ matched, statement: st, principal, ...(failed !== undefined ? { failed } : {}) });
  }
  return out;
}

/** `statement 2 (Sid "X") of identity policy "name"` — where a decision came from. */
export function describeStatement(m: MatchedStatement): string {
  const sid = m.sid !== undefined ? ` (Sid "${m.sid}")` : '';
  const policy =
    m.policy === 'resource'
      ? 'the resource policy'
      : `identity policy ${m.policyName !== undefined ? `"${m.policyName}"` : `#${m.policyIndex + 1}`}`;
  return `statement ${m.statementIndex + 1}${sid} of ${policy}`;
}

const allow = (c: Candidate, why: string): EvaluationResult => ({
  decision: 'allow',
  reason: `Allowed by ${describeStatement(c.matched)}${why}`,
  matched: c.matched,
});

function implicit(policyType: PolicyType, why: string, near: Candidate | undefined): EvaluationResult {
  const nearly = near === undefined ? '' : `; ${describeStatement(near.matched)} would allow it, but ${near.failed}`;
  return { decision: 'implicit-deny', reason: `Implicitly denied: ${why}${nearly}`, policyType };
}

/**
 * Evaluates a request as IAM does within an account: an explicit Deny in any policy wins; otherwise
 * an Allow in an identity policy, or a resource-policy Allow that names the principal itself (its
 * ARN, its role for a role session, or `*`), allows. A resource policy that names only the account
 * delegates to the account's identity policies. The account's root user has full access to its own
 * account's resources unless explicitly denied. Across accounts both sides must allow.
 */
export function evaluate(request: AccessRequest, policies: PolicySet): EvaluationResult {
  const ctx = buildContext(request);
  const identity = policies.identity.flatMap((p, i) => candidates(p, 'identity', i, request, ctx));
  const resource = policies.resource === undefined ? [] : candidates(policies.resource, 'resource', 0, request, ctx);
  const deny = [...identity, ...resource].find((c) => c.statement.effect === 'Deny' && c.failed === undefined);
  if (deny !== undefined) {
    return {
      decision: 'explicit-deny',
      reason: `Explicitly denied by ${describeStatement(deny.matched)}`,
      policyType: deny.matched.policy === 'resource' ? 'resource-based' : 'identity-based',
      matched: deny.matched,
    };
  }
  const allows = (cs: Candidate[]) => cs.filter((c) => c.statement.effect === 'Allow');
  const idAllow = allows(identity).find((c) => c.failed === undefined);
  const resAllows = allows(resource).filter((c) => c.failed === undefined);
  const resDirect = resAllows.find((c) => c.principal !== 'account');
  const near = [...allows(identity), ...allows(resource)].find((c) => c.failed !== undefined);
  const p = request.principal;
  const what = `${request.action} on ${request.resource}`;

  if (p.type === 'service') {
    if (resDirect !== undefined) return allow(resDirect, ', which names the service principal');
    return implicit('resource-based', `no resource-based policy allows ${p.arn} to perform ${what}`, near);
  }
  if (p.accountId === policies.resourceAccountId) {
    if (p.type === 'root') {
      return { decision: 'allow', reason: 'Allowed: the account root user has full access to its own account\'s resources' };
    }
    if (idAllow !== undefined) return allow(idAllow, '');
    if (resDirect !== undefined) return allow(resDirect, ', which names the principal');
    const delegated = resAllows.length > 0 ? '; the resource policy allows only the account, which delegates to identity-based policies' : '';
    return implicit('identity-based', `no identity-based policy allows ${what}${delegated}`, near);
  }
  // Cross-account: the caller's identity policies and the secret's resource policy must both allow.
  if (idAllow === undefined) {
    return implicit('identity-based', `no identity-based policy allows ${what} (a cross-account request needs both)`, near);
  }
  if (resAllows.length === 0) {
    return implicit('resource-based', `no resource-based policy allows ${what} for account ${p.accountId}`, near);
  }
  return allow(idAllow, ` and ${describeStatement(resAllows[0].matched)} (cross-account)`);
}

/**
 * AWS's AccessDeniedException message, e.g. `User: arn:aws:iam::123456789012:user/alice is not
 * authorized to perform: secretsmanager:GetSecretValue on resource: arn:... because no
 * identity-based policy allows the secretsmanager:GetSecretValue action`, or `... with an explicit
 * deny in a resource-based policy`. A bare decision defaults to the identity-based wording.
 */
export function accessDeniedMessage(
  principalArn: string,
  action: string,
  resource: string | undefined,
  decision: Decision | Pick<EvaluationResult, 'decision' | 'policyType'>,
): string {
  const d = typeof decision === 'string' ? decision : decision.decision;
  const type: PolicyType = (typeof decision === 'string' ? undefined : decision.policyType) ?? 'identity-based';
  if (d === 'allow') throw new TypeError('an allowed request has no access-denied message');
  const on = resource !== undefined && resource !== '' && resource !== '*' ? ` on resource: ${resource}` : '';
  const head = `User: ${principalArn} is not authorized to perform: ${action}${on}`;
  if (d === 'explicit-deny') return `${head} with an explicit deny in ${type === 'identity-based' ? 'an' : 'a'} ${type} policy`;
  return `${head} because no ${type} policy allows the ${action} action`;
}
