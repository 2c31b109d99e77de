import { requestPrincipal, type Principal } from '../../auth/principal.js';
import { policiesOf } from '../../iam/env.js';
import type { AuditRecord } from '../../monitoring/audit.js';
import { accessDeniedMessage, evaluate, resourcePolicyFromText, type EvaluationResult, type Policy } from '../../policy/index.js';
import type { FunctionRecord } from '../../storage/types.js';
import type { LambdaEnv } from './env.js';
import { lambdaError } from './errors.js';
import { LAMBDA_PRINCIPAL } from './execution-role.js';

/*
 * Who may manage and invoke functions. Every Lambda API call is authorized as `lambda:<Action>` on
 * the function's ARN (ListFunctions on `*`) with the caller's identity policies and the function's
 * resource policy (AddPermission's statements); creating a function, or changing its Role, also
 * needs `iam:PassRole` on that role (context key iam:PassedToService = lambda.amazonaws.com), as on
 * AWS: a principal cannot give a function, and so itself, more than it may pass on. The root key may
 * do everything. Each call leaves an audit record.
 */

/** One Lambda API call as it is authorized and audited. */
export interface LambdaCall {
  principal: Principal;
  sourceIp?: string;
  /** `lambda:<Action>`, once the route is known. */
  action?: string;
  resource?: string;
  decision?: AuditRecord['decision'];
}

/** A function's resource policy in the evaluator's terms (none when it has none or it does not parse). */
const resourcePolicyOf = (fn: FunctionRecord | undefined): Policy | undefined => (fn?.policy ? resourcePolicyFromText(fn.policy) ?? undefined : undefined);

async function decide(
  env: LambdaEnv, call: LambdaCall, action: string, resource: string, fn: FunctionRecord | undefined, context: Record<string, string> = {},
): Promise<EvaluationResult> {
  return evaluate(
    {
      principal: requestPrincipal(call.principal), action, resource, now: new Date(env.now()),
      context: { ...(call.sourceIp ? { 'aws:SourceIp': call.sourceIp.replace(/^::ffff:/, '') } : {}), ...context },
    },
    { identity: await policiesOf(env, call.principal), resource: resourcePolicyOf(fn), resourceAccountId: env.accountId },
  );
}

const denied = (call: LambdaCall, action: string, resource: string, result: EvaluationResult) =>
  lambdaError('AccessDeniedException', accessDeniedMessage(call.principal.principalArn, action, resource, result));

/**
 * Authorizes `action` on `resource` (and iam:PassRole on `passRole`); throws Lambda's
 * AccessDeniedException naming the principal, action and resource. Records the decision on `call`.
 */
export async function authorizeLambda(
  env: LambdaEnv, call: LambdaCall, action: string, resource: string, fn?: FunctionRecord, passRole?: string,
): Promise<void> {
  call.action = action;
  call.resource = resource;
  if (call.principal.kind === 'root') {
    call.decision = { effect: 'root', reason: 'the root key bypasses policies' };
    return;
  }
  const result = await decide(env, call, action, resource, fn);
  call.decision = { effect: result.decision, reason: result.reason };
  if (result.decision !== 'allow') throw denied(call, action, resource, result);
  if (passRole !== undefined) {
    const pass = await decide(env, call, 'iam:PassRole', passRole, undefined, { 'iam:PassedToService': LAMBDA_PRINCIPAL });
    if (pass.decision !== 'allow') {
      call.decision = { effect: pass.decision, reason: pass.reason };
      throw denied(call, 'iam:PassRole', passRole, pass);
    }
  }
}
