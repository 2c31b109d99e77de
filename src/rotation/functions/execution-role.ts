import type { RoleSession } from '../../auth/principal.js';
import type { IamEnv } from '../../iam/env.js';
import { parseRoleArn } from '../../iam/names.js';
import { trustPolicy } from '../../iam/policy-documents.js';
import { evaluate } from '../../policy/evaluate.js';
import type { FunctionRecord, PrincipalRecord } from '../../storage/types.js';
import { issueSessionKeys, revokeSessionKeys, type SessionKeys } from '../../sts/temporary-keys.js';

/*
 * Execution roles. A function runs with temporary keys of its role (the Role of CreateFunction), as
 * on Lambda: the role must exist in this account and its trust policy must let lambda.amazonaws.com
 * assume it. Each invocation gets its own session, named after the function, that expires shortly
 * after the invocation's timeout and is deleted as soon as the invocation ends, so a key a function
 * leaked stops working when its run does.
 */

/** The service principal functions assume their execution role as. */
export const LAMBDA_PRINCIPAL = 'lambda.amazonaws.com';

/** Lambda's words when the role will not do. */
export const ROLE_CANNOT_BE_ASSUMED = 'The role defined for the function cannot be assumed by Lambda.';

/** How long a session outlives its invocation's timeout, as a margin for the process to be killed. */
export const SESSION_MARGIN_MS = 60_000;

/** Why the role cannot be assumed by Lambda (a sentence without its full stop), or the role record when it can. */
export async function executionRole(env: IamEnv, roleArn: string, functionArn: string): Promise<PrincipalRecord | string> {
  const parsed = parseRoleArn(roleArn);
  if (!parsed || parsed.accountId !== env.accountId) return `The role ${roleArn} is not a role of account ${env.accountId}`;
  const role = await env.store.read((tx) => tx.identity.principalByArn(roleArn));
  if (!role || role.kind !== 'role') return `There is no role ${roleArn}: create it first (aws iam create-role, or lockstep iam create-role)`;
  const decision = evaluate(
    {
      principal: { arn: LAMBDA_PRINCIPAL, accountId: '', type: 'service' },
      action: 'sts:AssumeRole',
      resource: role.arn,
      context: { 'aws:SourceAccount': env.accountId, 'aws:SourceArn': functionArn },
      now: new Date(env.now()),
    },
    { identity: [], resource: trustPolicy(role.trustPolicy ?? ''), resourceAccountId: env.accountId },
  );
  if (decision.decision !== 'allow') {
    return `The trust policy of ${roleArn} does not let ${LAMBDA_PRINCIPAL} perform sts:AssumeRole (add a statement with "Principal": {"Service": "${LAMBDA_PRINCIPAL}"})`;
  }
  return role;
}

/** The full refusal: Lambda's sentence, then why. */
export const roleRefusal = (why: string) => `${ROLE_CANNOT_BE_ASSUMED} ${why}.`;

/** Temporary keys for one invocation, and how to revoke them. */
export interface InvocationKeys extends SessionKeys {
  revoke(): Promise<void>;
}

/**
 * Issues one invocation's keys: a session `<role>/<function name>` valid for the timeout plus a
 * margin. Throws an Error with the refusal when the role cannot be assumed.
 */
export async function invocationKeys(env: IamEnv, fn: FunctionRecord, timeoutMs: number): Promise<InvocationKeys> {
  const role = await executionRole(env, fn.role, fn.arn);
  if (typeof role === 'string') throw new Error(roleRefusal(role));
  const session: RoleSession = {
    roleArn: role.arn, roleName: role.name, sessionName: fn.name, assumedRoleId: `${role.uniqueId}:${fn.name}`,
  };
  const keys = await issueSessionKeys(env, role, session, env.now() + timeoutMs + SESSION_MARGIN_MS, () => new Error(roleRefusal(`The role ${role.arn} was deleted`)));
  return { ...keys, revoke: () => revokeSessionKeys(env, keys.accessKeyId) };
}
