import { randomId } from '../auth/access-keys.js';

/*
 * IAM's identifiers: ARNs of users and roles (`arn:aws:iam::<account>:user/<path><name>`, the path
 * starting and ending with `/`), and unique ids (AIDA… for users, AROA… for roles, 21 characters).
 */

/** The prefix of users' unique ids. */
export const USER_ID_PREFIX = 'AIDA';
/** The prefix of roles' unique ids. */
export const ROLE_ID_PREFIX = 'AROA';

/** The ARN of a user or role. */
export function principalArn(accountId: string, kind: 'user' | 'role', path: string, name: string): string {
  return `arn:aws:iam::${accountId}:${kind}${path}${name}`;
}

/** A new unique id for a user or role: its prefix and 17 random characters. */
export function newUniqueId(kind: 'user' | 'role'): string {
  return randomId(kind === 'user' ? USER_ID_PREFIX : ROLE_ID_PREFIX, 21);
}

/** The parts of a role ARN (`arn:aws:iam::<account>:role/<path><name>`), or undefined when it is not one. */
export function parseRoleArn(arn: string): { accountId: string; path: string; name: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}):role(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]{1,64})$/.exec(arn);
  return m ? { accountId: m[1], path: m[2], name: m[3] } : undefined;
}

/** True when a principal's path starts with the prefix, as ListUsers / ListRoles filter them. */
export function pathMatches(path: string, prefix: string | undefined): boolean {
  return prefix === undefined || path.startsWith(prefix);
}
