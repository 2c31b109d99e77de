import type { Authenticator } from '../auth/authenticator.js';
import { policyOwnerArn, type Principal } from '../auth/principal.js';
import type { Keyring } from '../crypto/keyring.js';
import { parsePolicy } from '../policy/parse.js';
import type { Policy } from '../policy/types.js';
import type { Store } from '../storage/types.js';

/** What the IAM and STS operations work with. */
export interface IamEnv {
  store: Store;
  keyring: Keyring;
  accountId: string;
  now: () => number;
  /**
   * The server's authenticator, told after each commit that changed a key, a principal or its
   * policies so that this process stops trusting what it cached at once. Absent in `lockstep iam`
   * (another process): servers then notice within their cache lifetime.
   */
  auth?: Pick<Authenticator, 'invalidateKey' | 'invalidatePrincipal' | 'invalidatePolicies' | 'identityPolicies'>;
}

/** The identity policies of a principal: through the authenticator's cache, or read from the store. */
export async function policiesOf(env: IamEnv, p: Principal): Promise<readonly Policy[]> {
  if (env.auth) return env.auth.identityPolicies(p);
  const owner = policyOwnerArn(p);
  if (owner === undefined) return [];
  const docs = await env.store.read((tx) => tx.identity.policies(owner));
  return docs.map((d) => parsePolicy(d.document, { kind: 'identity', name: d.name }));
}

/** Account ids look like this. */
const ACCOUNT_ID = /^\d{12}$/;

/**
 * Records the account id principals are created in (meta `account_id`), so that `lockstep iam`
 * makes ARNs in the server's account; refuses a data directory whose principals belong to another.
 */
export async function recordAccountId(store: Store, accountId: string): Promise<void> {
  if (!ACCOUNT_ID.test(accountId)) throw new Error(`the account id must be 12 digits, not '${accountId}'`);
  await store.transaction(async (tx) => {
    const known = await tx.meta.get('account_id');
    if (known === undefined) await tx.meta.set('account_id', accountId);
    else if (known !== accountId) {
      const users = await tx.identity.principals('user');
      const roles = await tx.identity.principals('role');
      if (users.length + roles.length > 0) {
        throw new Error(
          `the data directory's users and roles belong to account ${known}, not ${accountId}: start with --account-id ${known} (LOCKSTEP_ACCOUNT_ID)`,
        );
      }
      await tx.meta.set('account_id', accountId);
    }
  });
}
