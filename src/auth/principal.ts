import type { RequestPrincipal } from '../policy/types.js';

/** A role session behind temporary credentials, as AssumeRole recorded it. */
export interface RoleSession {
  readonly roleArn: string;
  readonly roleName: string;
  readonly sessionName: string;
  readonly sourceIdentity?: string;
  /** `AROA…:<session name>`: the role's unique id and the session name. */
  readonly assumedRoleId: string;
}

/** Who signed a request, as authentication established it. */
export interface Principal {
  readonly accessKeyId: string;
  /** `arn:aws:iam::<acct>:root`, a user's ARN, or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  readonly principalArn: string;
  readonly kind: 'root' | 'user' | 'assumed-role';
  readonly accountId: string;
  /** What GetCallerIdentity calls UserId: the account id (root), `AIDA…` (user) or `AROA…:<session>`. */
  readonly userId: string;
  /** Users: the user name. */
  readonly userName?: string;
  /** Assumed roles: the session. */
  readonly session?: RoleSession;
}

/** The ARN of an account's root user. */
export function rootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

/** The ARN of a role session: `arn:aws:sts::<acct>:assumed-role/<role name>/<session name>`. */
export function sessionArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

/** The ARN whose identity (inline) policies apply to a principal: the user, the session's role; none for root. */
export function policyOwnerArn(p: Principal): string | undefined {
  if (p.kind === 'user') return p.principalArn;
  if (p.kind === 'assumed-role') return p.session?.roleArn;
  return undefined;
}

/** The principal as the policy evaluator sees it. */
export function requestPrincipal(p: Principal): RequestPrincipal {
  return {
    arn: p.principalArn,
    accountId: p.accountId,
    type: p.kind,
    ...(p.userName !== undefined ? { username: p.userName } : {}),
  };
}
