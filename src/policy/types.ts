// The normalised policy model shared by the parser, the matchers and the evaluator.

/** The two policy-language versions IAM accepts; 2008-10-17 has no policy variables. */
export type PolicyVersion = '2012-10-17' | '2008-10-17';

/** A statement's effect. */
export type Effect = 'Allow' | 'Deny';

/** What a policy is attached to: a principal (identity-based) or the secret (resource-based). */
export type PolicyKind = 'identity' | 'resource';

/** A Principal or NotPrincipal element: `"*"` sets `wildcard`; each map entry keeps its values. */
export interface PrincipalSet {
  readonly wildcard: boolean;
  readonly aws: readonly string[];
  readonly service: readonly string[];
  readonly federated: readonly string[];
  readonly canonicalUser: readonly string[];
}

/** One key of one condition operator: `"StringEqualsIfExists": {"aws:SourceIp": [...]}`. */
export interface ConditionClause {
  /** The operator as written, e.g. `ForAnyValue:StringLikeIfExists`. */
  readonly operator: string;
  /** The canonical base operator, e.g. `StringLike`. */
  readonly base: string;
  readonly set?: 'ForAllValues' | 'ForAnyValue';
  readonly ifExists: boolean;
  /** The condition key as written; keys compare case-insensitively. */
  readonly key: string;
  /** The policy values, as strings (JSON numbers and booleans are stringified). */
  readonly values: readonly string[];
}

/** A normalised statement; exactly one of each pair (Action/NotAction, ...) is set when present. */
export interface Statement {
  /** Zero-based position in the policy's Statement list. */
  readonly index: number;
  readonly sid?: string;
  readonly effect: Effect;
  readonly action?: readonly string[];
  readonly notAction?: readonly string[];
  readonly resource?: readonly string[];
  readonly notResource?: readonly string[];
  readonly principal?: PrincipalSet;
  readonly notPrincipal?: PrincipalSet;
  readonly conditions: readonly ConditionClause[];
}

/** A parsed, validated policy document. */
export interface Policy {
  readonly version: PolicyVersion;
  readonly id?: string;
  /** A label for messages (a managed policy's name, `resource policy`, ...). */
  readonly name?: string;
  readonly statements: readonly Statement[];
}

/** Who makes the request. For `service`, `arn` is the service principal (`lambda.amazonaws.com`). */
export interface RequestPrincipal {
  readonly arn: string;
  readonly accountId: string;
  readonly type: 'root' | 'user' | 'role' | 'assumed-role' | 'service';
  readonly username?: string;
}

/** A value in the request context; arrays are multi-valued keys. */
export type ContextValue = string | readonly string[] | number | boolean | undefined;

/** One authorization question: may `principal` perform `action` on `resource`? */
export interface AccessRequest {
  readonly principal: RequestPrincipal;
  /** `service:Action`, e.g. `secretsmanager:GetSecretValue`. */
  readonly action: string;
  /** The resource ARN, or `*` for actions without a resource (ListSecrets, GetRandomPassword). */
  readonly resource: string;
  readonly context: Readonly<Record<string, ContextValue>>;
  /** When set, supplies `aws:CurrentTime` and `aws:EpochTime` unless the context has them. */
  readonly now?: Date;
}

/** The policies that bear on one request. */
export interface PolicySet {
  /** The principal's own policies (user, group and role policies). */
  readonly identity: readonly Policy[];
  /** The secret's resource policy, if it has one. */
  readonly resource?: Policy;
  /** The account that owns the resource. */
  readonly resourceAccountId: string;
}

/** The outcome of an evaluation. */
export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** The two policy types that appear in AWS's access-denied messages. */
export type PolicyType = 'identity-based' | 'resource-based';

/** The statement that decided an evaluation. */
export interface MatchedStatement {
  readonly policy: PolicyKind;
  /** Index into `identity` (identity policies) or 0 (the resource policy). */
  readonly policyIndex: number;
  readonly policyName?: string;
  readonly statementIndex: number;
  readonly sid?: string;
  readonly effect: Effect;
}

/** An evaluation's decision, a human-readable reason and the deciding statement, if any. */
export interface EvaluationResult {
  readonly decision: Decision;
  readonly reason: string;
  /** For denials: the policy type AWS names in its message. */
  readonly policyType?: PolicyType;
  readonly matched?: MatchedStatement;
}
