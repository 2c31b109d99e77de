import { ServiceError } from '../errors.js';
import { accessDeniedMessage, evaluate, resourcePolicyFromText, type ContextValue, type EvaluationResult, type Policy } from '../policy/index.js';
import { requestPrincipal, type Principal } from '../auth/principal.js';
import type { SecretAggregate, Tx } from '../storage/types.js';
import { findSecret, type ServiceContext } from './context.js';
import type { SecretFacts } from './read-cache.js';
import { stagesOf, labelMapOf, AWSCURRENT } from './labels.js';

/*
 * The policy decision for a Secrets Manager call: the caller's identity policies (a user's inline
 * policies, or those of the role behind a session) and the secret's resource policy, evaluated with
 * IAM's rules against the request's context keys (secretsmanager:SecretId, :Name, :VersionStage,
 * :VersionId, :ResourceTag/*, :RotationLambdaARN, aws:ResourceTag/*, aws:RequestTag/*, aws:TagKeys,
 * aws:SourceIp, aws:CurrentTime, ...). The root key bypasses policies.
 */

/** A decision and what it was about, for the audit trail and AccessDeniedException. */
export interface Authorization {
  decision: 'root' | EvaluationResult['decision'];
  reason: string;
  action: string;
  resource: string;
  result?: EvaluationResult;
}

/** One authorization question about a Secrets Manager call (or a Lockstep extension, with `action`). */
export interface AuthorizationRequest {
  principal: Principal;
  /** The principal's identity policies (the authenticator caches them: `identityPolicies`). */
  identity: readonly Policy[];
  op: string;
  input: Record<string, any>;
  sourceIp?: string;
  /** Default `secretsmanager:<op>`. */
  action?: string;
}

const rootDecision = (action: string): Authorization => ({ decision: 'root', reason: 'the root key bypasses policies', action, resource: '*' });

/** The context keys of one call. */
function contextOf(
  op: string, input: Record<string, any>, agg: SecretAggregate | undefined, principal: Principal, sourceIp: string | undefined,
): Record<string, ContextValue> {
  const c: Record<string, ContextValue> = { 'aws:SecureTransport': false, 'aws:userid': principal.userId };
  if (sourceIp) c['aws:SourceIp'] = sourceIp.replace(/^::ffff:/, '');
  if (principal.session) c['aws:PrincipalArn'] = principal.session.roleArn;
  if (agg) {
    c['secretsmanager:SecretId'] = agg.secret.arn;
    c['secretsmanager:Name'] = agg.secret.name;
    for (const t of agg.tags) {
      c[`secretsmanager:ResourceTag/${t.Key}`] = t.Value ?? '';
      c[`aws:ResourceTag/${t.Key}`] = t.Value ?? '';
    }
  }
  if (typeof input.VersionId === 'string') c['secretsmanager:VersionId'] = input.VersionId;
  if (op === 'GetSecretValue') {
    if (typeof input.VersionStage === 'string') c['secretsmanager:VersionStage'] = input.VersionStage;
    else if (typeof input.VersionId === 'string' && agg) {
      const stages = stagesOf(labelMapOf(agg.versions), input.VersionId);
      if (stages.length) c['secretsmanager:VersionStage'] = stages;
    } else c['secretsmanager:VersionStage'] = AWSCURRENT;
  } else if (op === 'UpdateSecretVersionStage' && typeof input.VersionStage === 'string') {
    c['secretsmanager:VersionStage'] = input.VersionStage;
  } else if (op === 'PutSecretValue') {
    c['secretsmanager:VersionStage'] = Array.isArray(input.VersionStages) ? input.VersionStages : AWSCURRENT;
  }
  if (typeof input.RotationLambdaARN === 'string') c['secretsmanager:RotationLambdaARN'] = input.RotationLambdaARN;
  if (typeof input.KmsKeyId === 'string') c['secretsmanager:KmsKeyId'] = input.KmsKeyId;
  if (Array.isArray(input.Tags)) {
    for (const t of input.Tags) c[`aws:RequestTag/${t.Key}`] = t.Value ?? '';
    c['aws:TagKeys'] = input.Tags.map((t: { Key: string }) => t.Key);
  } else if (Array.isArray(input.TagKeys)) c['aws:TagKeys'] = input.TagKeys;
  return c;
}

/** The resource a call is about: the secret's ARN (as named, when it does not exist), or `*`. */
function resourceOf(ctx: ServiceContext, op: string, input: Record<string, any>, agg: SecretAggregate | undefined): string {
  if (agg) return agg.secret.arn;
  const id = op === 'CreateSecret' ? input.Name : input.SecretId;
  if (typeof id !== 'string') return '*';
  return id.startsWith('arn:') ? id : `${ctx.arnPrefix}${id}`;
}

/** The id of the secret a call names, if it names one that may exist. */
const namedSecret = (op: string, input: Record<string, any>): string | undefined =>
  op !== 'CreateSecret' && typeof input.SecretId === 'string' ? input.SecretId : undefined;

/** Reads what a decision needs to know about the secret a call names. */
async function factsIn(ctx: ServiceContext, tx: Tx, id: string | undefined): Promise<SecretFacts> {
  const secret = id === undefined ? undefined : await findSecret(ctx, tx, id);
  return secret ? { secret, aggregate: await tx.secrets.aggregate(secret) } : {};
}

/** The decision, given the facts about the secret. */
function decide(ctx: ServiceContext, r: AuthorizationRequest, facts: SecretFacts): Authorization {
  const { principal, op, input } = r;
  const action = r.action ?? `secretsmanager:${op}`;
  const { secret: s, aggregate: agg } = facts;
  const resourcePolicy = s?.resourcePolicy ? resourcePolicyFromText(s.resourcePolicy) ?? undefined : undefined;
  const resource = resourceOf(ctx, op, input, agg);
  const result = evaluate(
    { principal: requestPrincipal(principal), action, resource, context: contextOf(op, input, agg, principal, r.sourceIp), now: new Date(ctx.now()) },
    { identity: r.identity, resource: resourcePolicy, resourceAccountId: ctx.accountId },
  );
  return { decision: result.decision, reason: result.reason, action, resource, result };
}

/** Decides a call inside a read transaction. */
export async function authorizeIn(ctx: ServiceContext, tx: Tx, r: AuthorizationRequest): Promise<Authorization> {
  if (r.principal.kind === 'root') return rootDecision(r.action ?? `secretsmanager:${r.op}`);
  return decide(ctx, r, await factsIn(ctx, tx, namedSecret(r.op, r.input)));
}

/**
 * Decides a call; the root key is decided without reading anything. What the decision reads about
 * the secret (its record, tags, labels and resource policy) is cached until the data changes.
 */
export async function authorize(ctx: ServiceContext, r: AuthorizationRequest): Promise<Authorization> {
  if (r.principal.kind === 'root') return rootDecision(r.action ?? `secretsmanager:${r.op}`);
  const id = namedSecret(r.op, r.input);
  if (id === undefined) return decide(ctx, r, {});
  let facts = ctx.factsCache.get(id);
  if (!facts) {
    facts = await ctx.store.read(async (tx) => {
      const gen = ctx.store.generation;
      const read = await factsIn(ctx, tx, id);
      ctx.factsCache.set(id, gen, read);
      return read;
    });
  }
  return decide(ctx, r, facts);
}

/** The AccessDeniedException for a denied authorization. */
export function accessDenied(principal: Principal, a: Authorization): ServiceError {
  return new ServiceError('AccessDeniedException', accessDeniedMessage(principal.principalArn, a.action, a.resource, a.result ?? 'implicit-deny'));
}
