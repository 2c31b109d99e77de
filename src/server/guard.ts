import { Errors, isServiceError } from '../errors.js';
import type { Principal } from '../auth/principal.js';
import type { Policy } from '../policy/index.js';
import { accessDenied, authorize, authorizeIn, type Authorization } from '../secrets/authorize.js';
import type { ServiceContext } from '../secrets/context.js';
import { callRecord, type AuditRecord, type AuditWriter } from '../monitoring/audit.js';

/*
 * Every Secrets Manager call passes here: the policy decision before the operation, and one audit
 * record after it (allowed or denied, succeeded or failed). The answer goes out only once its audit
 * record is written; if it cannot be, the caller gets InternalServiceError instead of the answer.
 */

/** Who asked, and from where. */
export interface CallInfo {
  principal: Principal;
  /** The principal's identity policies (none for root). */
  identity: readonly Policy[];
  requestId: string;
  sourceIp?: string;
}

function decisionOf(a: Authorization): AuditRecord['decision'] {
  return { effect: a.decision, reason: a.reason };
}

/** Writes the record; a failure refuses the request. */
async function audited(audit: AuditWriter, r: AuditRecord): Promise<void> {
  try {
    await audit.record(r);
  } catch {
    throw Errors.internal();
  }
}

/** Runs an operation under the policy decision, with its audit record. `action` overrides `secretsmanager:<op>`. */
export async function guardedCall(
  ctx: ServiceContext, audit: AuditWriter, call: CallInfo, op: string, input: Record<string, any>,
  run: () => Promise<Record<string, unknown>>, action?: string,
): Promise<Record<string, unknown>> {
  const a = await authorize(ctx, { principal: call.principal, identity: call.identity, op, input, sourceIp: call.sourceIp, action });
  const base = callRecord(ctx.now(), call.requestId, call, a.action, 'success', { resource: resourceOf(a, input, op), decision: decisionOf(a) });
  if (a.decision !== 'allow' && a.decision !== 'root') {
    await audited(audit, { ...base, outcome: 'denied', errorCode: 'AccessDeniedException' });
    throw accessDenied(call.principal, a);
  }
  let out: Record<string, unknown>;
  try {
    out = await run();
    if (op === 'BatchGetSecretValue' && call.principal.kind !== 'root') out = await filterBatch(ctx, call, out);
  } catch (e) {
    await audited(audit, { ...base, outcome: 'error', errorCode: isServiceError(e) ? e.code : 'InternalServiceError' });
    throw e;
  }
  await audited(audit, base);
  return out;
}

/** The resource to record: the decision's, or the id the caller named. */
function resourceOf(a: Authorization, input: Record<string, any>, op: string): string | undefined {
  if (a.resource !== '*') return a.resource;
  const id = op === 'CreateSecret' ? input.Name : input.SecretId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * BatchGetSecretValue for a principal under policies: each value is returned only if the principal
 * may GetSecretValue it; the others become AccessDeniedException entries in Errors, as AWS reports them.
 */
async function filterBatch(ctx: ServiceContext, call: CallInfo, out: Record<string, unknown>): Promise<Record<string, unknown>> {
  const values = (out.SecretValues as Record<string, any>[] | undefined) ?? [];
  const errors = [...((out.Errors as Record<string, any>[] | undefined) ?? [])];
  const kept: Record<string, any>[] = [];
  await ctx.store.read(async (tx) => {
    for (const v of values) {
      const a = await authorizeIn(ctx, tx, {
        principal: call.principal, identity: call.identity, op: 'GetSecretValue', input: { SecretId: v.ARN, VersionId: v.VersionId }, sourceIp: call.sourceIp,
      });
      if (a.decision === 'allow') kept.push(v);
      else errors.push({ SecretId: v.Name, ErrorCode: 'AccessDeniedException', Message: accessDenied(call.principal, a).message });
    }
  });
  return { ...out, SecretValues: kept, ...(errors.length ? { Errors: errors } : {}) };
}
