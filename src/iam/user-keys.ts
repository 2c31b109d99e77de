import type { AccessKeyRecord, Tx } from '../storage/types.js';
import { newAccessKey, sealKeySecret } from '../auth/access-keys.js';
import { IamErrors, IamMessages } from './errors.js';
import { requireUser, resourceArn, targetUserName } from './lookup.js';
import { Members, validationMessage } from './members.js';
import type { QueryOperation } from './operation.js';
import { page } from './paging.js';

/** IAM's quota of access keys per user. */
export const ACCESS_KEYS_PER_USER = 2;

const userResource: QueryOperation['resource'] = (env, caller, input) => resourceArn(env, 'user', targetUserName(caller, input));

/** The key of that id if the user owns it, else NoSuchEntity (as IAM: a key of another user is not found). */
async function requireKeyOf(tx: Tx, userName: string, accessKeyId: string): Promise<AccessKeyRecord> {
  const u = await requireUser(tx, userName);
  const k = await tx.identity.accessKey(accessKeyId);
  if (!k || k.principal !== u.arn) throw IamErrors.noSuchEntity(IamMessages.noAccessKey(accessKeyId));
  return k;
}

/** CreateAccessKey: a new long-term key pair for a user (at most two per user); the only time the secret is shown. */
export const createAccessKey: QueryOperation = {
  members: [Members.existingUserName(false)],
  resource: userResource,
  async run(env, caller, input) {
    const userName = targetUserName(caller, input);
    const key = newAccessKey();
    const createdMs = env.now();
    const user = await env.store.transaction(async (tx) => {
      const u = await requireUser(tx, userName);
      if ((await tx.identity.accessKeysOf(u.arn)).length >= ACCESS_KEYS_PER_USER) throw IamErrors.limitExceeded(IamMessages.accessKeyQuota);
      while (await tx.identity.accessKey(key.accessKeyId)) Object.assign(key, newAccessKey());
      await tx.identity.putAccessKey({
        accessKeyId: key.accessKeyId,
        sealedSecret: sealKeySecret(env.keyring, key.accessKeyId, key.secretAccessKey),
        principal: u.arn,
        createdMs,
        status: 'Active',
      });
      return u;
    });
    env.auth?.invalidateKey(key.accessKeyId); // forgets an earlier "unknown key" answer
    return {
      AccessKey: {
        UserName: user.name, AccessKeyId: key.accessKeyId, Status: 'Active', SecretAccessKey: key.secretAccessKey, CreateDate: new Date(createdMs),
      },
    };
  },
};

/** UpdateAccessKey: Active or Inactive; an inactive key stops authenticating at once in this process. */
export const updateAccessKey: QueryOperation = {
  members: [Members.existingUserName(false), Members.accessKeyId(), Members.status()],
  resource: userResource,
  async run(env, caller, input) {
    const status = input.Status as string;
    if (status !== 'Active' && status !== 'Inactive') {
      throw IamErrors.validation(validationMessage([`Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`]));
    }
    const id = input.AccessKeyId as string;
    await env.store.transaction(async (tx) => {
      const k = await requireKeyOf(tx, targetUserName(caller, input), id);
      if (k.status !== status) await tx.identity.putAccessKey({ ...k, status });
    });
    env.auth?.invalidateKey(id);
    return undefined;
  },
};

/** DeleteAccessKey: the key stops authenticating at once in this process. */
export const deleteAccessKey: QueryOperation = {
  members: [Members.existingUserName(false), Members.accessKeyId()],
  resource: userResource,
  async run(env, caller, input) {
    const id = input.AccessKeyId as string;
    await env.store.transaction(async (tx) => {
      await requireKeyOf(tx, targetUserName(caller, input), id);
      await tx.identity.deleteAccessKey(id);
    });
    env.auth?.invalidateKey(id);
    return undefined;
  },
};

/** ListAccessKeys: a user's keys (ids and status, never secrets). */
export const listAccessKeys: QueryOperation = {
  members: [Members.existingUserName(false), Members.marker(), Members.maxItems()],
  resource: userResource,
  async run(env, caller, input) {
    const userName = targetUserName(caller, input);
    const { user, keys } = await env.store.read(async (tx) => {
      const u = await requireUser(tx, userName);
      return { user: u, keys: await tx.identity.accessKeysOf(u.arn) };
    });
    const p = page(keys, (k) => k.accessKeyId, input);
    return {
      AccessKeyMetadata: p.items.map((k) => ({ UserName: user.name, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: new Date(k.createdMs) })),
      IsTruncated: p.IsTruncated,
      Marker: p.Marker,
    };
  },
};
