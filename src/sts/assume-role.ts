import { requestPrincipal, sessionArn, type Principal, type RoleSession } from '../auth/principal.js';
import { policiesOf, type IamEnv } from '../iam/env.js';
import { IamErrors } from '../iam/errors.js';
import { validationMessage, type MemberSpec } from '../iam/members.js';
import { parseRoleArn } from '../iam/names.js';
import type { QueryOperation } from '../iam/operation.js';
import { trustPolicy } from '../iam/policy-documents.js';
import { DEFAULT_MAX_SESSION_S } from '../iam/roles.js';
import { evaluate } from '../policy/evaluate.js';
import { parsePolicy } from '../policy/parse.js';
import type { ContextValue, EvaluationResult, Policy } from '../policy/types.js';
import type { PrincipalRecord } from '../storage/types.js';
import { issueSessionKeys } from './temporary-keys.js';

/*
 * AssumeRole: temporary credentials (an LSIA… key, its secret and a session token) for a role whose
 * trust policy lets the caller in. IAM's rule: a trust policy that names the caller (its user ARN,
 * or the role of a calling session) is enough; one that names only the account delegates to the
 * caller's identity policies, which must then allow sts:AssumeRole on the role; an explicit Deny
 * anywhere wins. Lockstep's root key may assume any role whose trust policy names the account
 * (AWS refuses its root user; Lockstep's root is the administrator's key).
 */

/** The session length when DurationSeconds is not given, and the cap in a role chain. */
export const DEFAULT_SESSION_S = 3600;

const MEMBERS: MemberSpec[] = [
  { name: 'RoleArn', required: true, min: 20, max: 2048 },
  { name: 'RoleSessionName', required: true, min: 2, max: 64, pattern: '[\\w+=,.@-]*' },
  { name: 'DurationSeconds', type: 'integer', min: 900, max: 43200 },
  { name: 'ExternalId', min: 2, max: 1224, pattern: '[\\w+=,.@:\\/-]*' },
  { name: 'SourceIdentity', min: 2, max: 64, pattern: '[\\w+=,.@-]*' },
];

/** What a root caller's own side allows: everything. */
const ALLOW_ALL: Policy = parsePolicy(
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  { kind: 'identity', name: 'root' },
);

const denied = (caller: Principal, roleArn: string) =>
  IamErrors.accessDenied(`User: ${caller.principalArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);

/** Evaluates the role's trust policy (and the caller's identity policies) for sts:AssumeRole. */
export async function trustDecision(
  env: IamEnv,
  caller: Principal,
  role: PrincipalRecord,
  context: Record<string, ContextValue>,
): Promise<EvaluationResult> {
  const trust = trustPolicy(role.trustPolicy ?? '');
  const request = { principal: requestPrincipal(caller), action: 'sts:AssumeRole', resource: role.arn, context, now: new Date(env.now()) };
  if (caller.kind === 'root') {
    // The evaluator lets an account's root do anything in its own account; for a trust policy the
    // role's consent is what counts, so root is judged as a caller from outside would be: its own
    // side allows everything, and the trust policy must name it (the account, or "*").
    const elsewhere = env.accountId === '000000000000' ? '000000000001' : '000000000000';
    return evaluate(request, { identity: [ALLOW_ALL], resource: trust, resourceAccountId: elsewhere });
  }
  return evaluate(request, { identity: await policiesOf(env, caller), resource: trust, resourceAccountId: env.accountId });
}

/** The session length asked for, checked against the role's maximum and the role-chaining cap. */
function sessionSeconds(caller: Principal, role: PrincipalRecord, asked: number | undefined): number {
  const seconds = asked ?? DEFAULT_SESSION_S;
  if (seconds > (role.maxSessionS ?? DEFAULT_MAX_SESSION_S)) {
    throw IamErrors.validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  if (caller.kind === 'assumed-role' && seconds > DEFAULT_SESSION_S) {
    throw IamErrors.validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
  return seconds;
}

/** AssumeRole. */
export const assumeRole: QueryOperation = {
  members: MEMBERS,
  unsupported: ['Policy', 'PolicyArns', 'Tags', 'TransitiveTagKeys', 'SerialNumber', 'TokenCode', 'ProvidedContexts'],
  async run(env, caller, input, meta) {
    const roleArn = input.RoleArn as string;
    if (meta) meta.resource = roleArn;
    const sessionName = input.RoleSessionName as string;
    const parsed = parseRoleArn(roleArn);
    if (!parsed) throw IamErrors.validation(validationMessage([`Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN`]));
    if (parsed.accountId !== env.accountId) throw denied(caller, roleArn);
    const role = await env.store.read((tx) => tx.identity.principalByArn(roleArn));
    if (!role || role.kind !== 'role') throw denied(caller, roleArn);

    // A source identity, once set, stays with every session chained from it.
    const inherited = caller.session?.sourceIdentity;
    const asked = typeof input.SourceIdentity === 'string' ? input.SourceIdentity : undefined;
    if (inherited !== undefined && asked !== undefined && asked !== inherited) throw denied(caller, roleArn);
    const sourceIdentity = asked ?? inherited;
    const context: Record<string, ContextValue> = {
      'sts:RoleSessionName': sessionName,
      'sts:ExternalId': typeof input.ExternalId === 'string' ? input.ExternalId : undefined,
      'sts:SourceIdentity': sourceIdentity,
    };
    const decision = await trustDecision(env, caller, role, context);
    if (meta) meta.decision = { effect: decision.decision, reason: decision.reason };
    if (decision.decision !== 'allow') throw denied(caller, roleArn);
    const seconds = sessionSeconds(caller, role, typeof input.DurationSeconds === 'number' ? input.DurationSeconds : undefined);

    const session: RoleSession = {
      roleArn: role.arn, roleName: role.name, sessionName, assumedRoleId: `${role.uniqueId}:${sessionName}`,
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
    };
    // The role may have gone while its trust policy was evaluated.
    const keys = await issueSessionKeys(env, role, session, env.now() + seconds * 1000, () => denied(caller, roleArn));
    return {
      Credentials: { AccessKeyId: keys.accessKeyId, SecretAccessKey: keys.secretAccessKey, SessionToken: keys.sessionToken, Expiration: new Date(keys.expiresMs) },
      AssumedRoleUser: { AssumedRoleId: session.assumedRoleId, Arn: sessionArn(env.accountId, role.name, sessionName) },
      SourceIdentity: sourceIdentity,
    };
  },
};
