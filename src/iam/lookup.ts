import type { Principal } from '../auth/principal.js';
import type { PrincipalRecord, Tx } from '../storage/types.js';
import type { IamEnv } from './env.js';
import { IamErrors, IamMessages } from './errors.js';
import type { Input } from './members.js';
import { principalArn } from './names.js';

/** The user of that name, or NoSuchEntity. */
export async function requireUser(tx: Tx, name: string): Promise<PrincipalRecord> {
  const u = await tx.identity.principal('user', name);
  if (!u) throw IamErrors.noSuchEntity(IamMessages.noUser(name));
  return u;
}

/** The role of that name, or NoSuchEntity. */
export async function requireRole(tx: Tx, name: string): Promise<PrincipalRecord> {
  const r = await tx.identity.principal('role', name);
  if (!r) throw IamErrors.noSuchEntity(IamMessages.noRole(name));
  return r;
}

/**
 * The user an operation is about: `UserName` when given, else the calling user itself; root and
 * role sessions must name one (IAM's rule for non-user credentials).
 */
export function targetUserName(caller: Principal, input: Input): string {
  if (typeof input.UserName === 'string') return input.UserName;
  if (caller.kind === 'user' && caller.userName !== undefined) return caller.userName;
  throw IamErrors.validation(IamMessages.needUserName);
}

/** The ARN of a user or role as authorization sees it: the stored one (with its path), else `/<name>`. */
export async function resourceArn(env: IamEnv, kind: 'user' | 'role', name: string): Promise<string> {
  const p = await env.store.read((tx) => tx.identity.principal(kind, name));
  return p?.arn ?? principalArn(env.accountId, kind, '/', name);
}

/** The resource of a listing: `arn:aws:iam::<acct>:user/` with the path prefix, as IAM reports it. */
export function listingArn(env: IamEnv, kind: 'user' | 'role', pathPrefix: string | number | undefined): string {
  return `arn:aws:iam::${env.accountId}:${kind}${typeof pathPrefix === 'string' ? pathPrefix : '/'}`;
}
