import type { Store } from '../storage/types.js';

/**
 * How long an expired temporary key is kept, so that a client still using it is told its token
 * expired (ExpiredToken) rather than that it is unknown: the longest session IAM allows.
 */
export const EXPIRED_KEY_GRACE_MS = 12 * 60 * 60 * 1000;

/** Deletes temporary keys that expired more than the grace period ago; how many. */
export async function purgeExpiredKeys(store: Store, nowMs: number): Promise<number> {
  return store.transaction((tx) => tx.identity.deleteExpiredKeys(nowMs - EXPIRED_KEY_GRACE_MS));
}
