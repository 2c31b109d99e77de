import { newAccessKey, newSessionToken, sealKeySecret, sessionTokenHash, TEMPORARY_KEY_PREFIX } from '../auth/access-keys.js';
import type { RoleSession } from '../auth/principal.js';
import type { IamEnv } from '../iam/env.js';
import type { PrincipalRecord, Store } from '../storage/types.js';

/**
 * How long an expired temporary key is kept, so that a client still using it is told its token
 * expired (ExpiredToken) rather than that it is unknown: the longest session IAM allows.
 */
export const EXPIRED_KEY_GRACE_MS = 12 * 60 * 60 * 1000;

/** Deletes temporary keys that expired more than the grace period ago; how many. */
export async function purgeExpiredKeys(store: Store, nowMs: number): Promise<number> {
  return store.transaction((tx) => tx.identity.deleteExpiredKeys(nowMs - EXPIRED_KEY_GRACE_MS));
}

/** A role session's temporary credentials. */
export interface SessionKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresMs: number;
}

/**
 * Mints an LSIA… key, its secret and a session token for a session of `role`, valid until
 * `expiresMs`. `roleGone` is thrown from inside the write transaction if the role went away
 * while the caller decided (AssumeRole's trust evaluation, a function's role check).
 */
export async function issueSessionKeys(
  env: IamEnv,
  role: PrincipalRecord,
  session: RoleSession,
  expiresMs: number,
  roleGone: () => Error,
): Promise<SessionKeys> {
  const key = newAccessKey(TEMPORARY_KEY_PREFIX);
  const token = newSessionToken();
  const nowMs = env.now();
  await env.store.transaction(async (tx) => {
    if (!(await tx.identity.principalByArn(role.arn))) throw roleGone();
    while (await tx.identity.accessKey(key.accessKeyId)) Object.assign(key, newAccessKey(TEMPORARY_KEY_PREFIX));
    await tx.identity.putAccessKey({
      accessKeyId: key.accessKeyId,
      sealedSecret: sealKeySecret(env.keyring, key.accessKeyId, key.secretAccessKey),
      principal: role.arn,
      createdMs: nowMs,
      status: 'Active',
      expiresMs,
      sessionTokenHash: sessionTokenHash(token),
      session: JSON.stringify(session),
    });
  });
  env.auth?.invalidateKey(key.accessKeyId);
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: token, expiresMs };
}

/** Deletes a temporary key at once: the next request signed with it is refused as unknown. */
export async function revokeSessionKeys(env: IamEnv, accessKeyId: string): Promise<void> {
  await env.store.transaction((tx) => tx.identity.deleteAccessKey(accessKeyId));
  env.auth?.invalidateKey(accessKeyId);
}
