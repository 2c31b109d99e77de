import type { Keyring } from '../crypto/keyring.js';
import type { AccessKeyRecord, Tx } from '../storage/types.js';
import { openKeySecret } from './access-keys.js';
import { ROOT_PRINCIPAL } from './credentials.js';
import { rootArn, sessionArn, type Principal, type RoleSession } from './principal.js';

/** An active access key as authentication needs it: the opened secret and who it speaks for. */
export interface ResolvedKey {
  readonly secret: string;
  readonly principal: Principal;
  /** Temporary keys: when they stop working (epoch ms). */
  readonly expiresMs?: number;
  /** Temporary keys: SHA-256 of the session token that must accompany them. */
  readonly tokenHash?: Buffer;
  /** The sealed secret it was opened from: a reload that finds the same bytes need not open it again. */
  readonly sealed: Buffer;
}

/** Parses the session column of a temporary key; undefined when it is not a session. */
export function parseSession(text: string | null | undefined): RoleSession | undefined {
  if (!text) return undefined;
  try {
    const s = JSON.parse(text) as Partial<RoleSession>;
    if (typeof s.roleArn !== 'string' || typeof s.roleName !== 'string' || typeof s.sessionName !== 'string' || typeof s.assumedRoleId !== 'string') {
      return undefined;
    }
    return {
      roleArn: s.roleArn, roleName: s.roleName, sessionName: s.sessionName, assumedRoleId: s.assumedRoleId,
      ...(typeof s.sourceIdentity === 'string' ? { sourceIdentity: s.sourceIdentity } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Reads one access key and its principal inside a read transaction and opens its secret. An unknown,
 * inactive or orphaned key (its user or role is gone) is undefined: authentication then answers as
 * for an unknown key id. `previous` lends its opened secret when the sealed bytes have not changed.
 */
export async function resolveKey(
  tx: Tx,
  keyring: Keyring,
  accountId: string,
  accessKeyId: string,
  previous?: ResolvedKey,
): Promise<ResolvedKey | undefined> {
  const k = await tx.identity.accessKey(accessKeyId);
  if (!k || k.status !== 'Active') return undefined;
  const principal = await principalOf(tx, accountId, k);
  if (!principal) return undefined;
  const secret = previous !== undefined && previous.sealed.equals(k.sealedSecret) ? previous.secret : openKeySecret(keyring, k);
  return {
    secret,
    principal,
    sealed: k.sealedSecret,
    ...(k.expiresMs != null ? { expiresMs: k.expiresMs } : {}),
    ...(k.sessionTokenHash ? { tokenHash: Buffer.from(k.sessionTokenHash, 'hex') } : {}),
  };
}

async function principalOf(tx: Tx, accountId: string, k: AccessKeyRecord): Promise<Principal | undefined> {
  if (k.principal === ROOT_PRINCIPAL) {
    return { accessKeyId: k.accessKeyId, principalArn: rootArn(accountId), kind: 'root', accountId, userId: accountId };
  }
  const owner = await tx.identity.principalByArn(k.principal);
  if (!owner) return undefined;
  if (owner.kind === 'user') {
    return { accessKeyId: k.accessKeyId, principalArn: owner.arn, kind: 'user', accountId, userId: owner.uniqueId, userName: owner.name };
  }
  // A role's keys are temporary: they need a session, an expiry and a token.
  const session = parseSession(k.session);
  if (!session || k.expiresMs == null || !k.sessionTokenHash) return undefined;
  return {
    accessKeyId: k.accessKeyId,
    principalArn: sessionArn(accountId, session.roleName, session.sessionName),
    kind: 'assumed-role',
    accountId,
    userId: session.assumedRoleId,
    session,
  };
}
