import type { Principal } from '../auth/principal.js';
import { requestPrincipal } from '../auth/principal.js';
import { accessDeniedMessage, evaluate } from '../policy/evaluate.js';
import { IamErrors } from './errors.js';
import { policiesOf, type IamEnv } from './env.js';
import { validateMembers, type Input, type MemberSpec } from './members.js';
import type { XmlValue } from './xml.js';

/** An operation's result: the members of its `<Action>Result`, or undefined when it has none. */
export type Result = Readonly<Record<string, XmlValue>> | undefined;

/** One operation of the query protocol (IAM or STS). */
export interface QueryOperation {
  /** Its input members, validated before anything else runs. */
  readonly members: readonly MemberSpec[];
  /** Parameters the model has that Lockstep refuses rather than ignore (Tags, PermissionsBoundary, ...). */
  readonly unsupported?: readonly string[];
  /**
   * The resource ARN the action (`iam:<Operation>`) is authorized on. Operations without it are
   * callable by every authenticated principal and check what they need themselves.
   */
  resource?(env: IamEnv, caller: Principal, input: Input): Promise<string>;
  /** Runs it; an operation authorized on its own (AssumeRole) reports its resource and decision in `meta`. */
  run(env: IamEnv, caller: Principal, input: Input, meta?: CallMeta): Promise<Result>;
}

/** Request parameters by name (the decoded form body, or what the CLI passes). */
export type Params = (name: string) => string | undefined;

/** Refuses the parameters an operation does not support (`Tags` also as `Tags.member.1.Key`). */
function refuseUnsupported(op: QueryOperation, names: readonly string[]): void {
  for (const u of op.unsupported ?? []) {
    if (names.some((n) => n === u || n.startsWith(`${u}.`))) throw IamErrors.validation(`Lockstep does not support the ${u} parameter.`);
  }
}

/** What a call was decided on, for its audit record. */
export interface CallMeta {
  resource?: string;
  decision?: { effect: 'root' | 'allow' | 'explicit-deny' | 'implicit-deny'; reason: string };
}

/**
 * Authorizes a non-root caller for `<prefix>:<action>` on the operation's resource with its identity
 * policies; root may do everything.
 */
async function authorize(env: IamEnv, op: QueryOperation, caller: Principal, action: string, input: Input, meta: CallMeta): Promise<void> {
  if (op.resource === undefined) return;
  const resource = await op.resource(env, caller, input);
  meta.resource = resource;
  if (caller.kind === 'root') {
    meta.decision = { effect: 'root', reason: 'the root key bypasses policies' };
    return;
  }
  const result = evaluate(
    { principal: requestPrincipal(caller), action, resource, context: {}, now: new Date(env.now()) },
    { identity: await policiesOf(env, caller), resourceAccountId: env.accountId },
  );
  meta.decision = { effect: result.decision, reason: result.reason };
  if (result.decision !== 'allow') throw IamErrors.accessDenied(accessDeniedMessage(caller.principalArn, action, resource, result));
}

/**
 * Runs one operation: refuses unsupported parameters, validates the input against the model,
 * authorizes the caller and runs it. `names` lists the parameters given; `meta` learns the resource
 * and the decision.
 */
export async function runOperation(
  env: IamEnv,
  op: QueryOperation,
  action: string,
  caller: Principal,
  params: Params,
  names: readonly string[],
  meta: CallMeta = {},
): Promise<Result> {
  refuseUnsupported(op, names);
  const input = validateMembers(op.members, params);
  await authorize(env, op, caller, action, input, meta);
  return op.run(env, caller, input, meta);
}
