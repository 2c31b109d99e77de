import type { PrincipalRecord } from '../storage/types.js';
import { ROOT_PRINCIPAL } from '../auth/credentials.js';
import { rootArn } from '../auth/principal.js';
import { IamErrors, IamMessages } from './errors.js';
import { listingArn, requireUser, resourceArn, targetUserName } from './lookup.js';
import { Members } from './members.js';
import { newUniqueId, pathMatches, principalArn } from './names.js';
import type { QueryOperation } from './operation.js';
import { page } from './paging.js';
import type { XmlValue } from './xml.js';

/** A user in IAM's `User` shape. */
export function userShape(u: PrincipalRecord): Record<string, XmlValue> {
  return { Path: u.path, UserName: u.name, UserId: u.uniqueId, Arn: u.arn, CreateDate: new Date(u.createdMs) };
}

const str = (v: string | number | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** CreateUser: a user with a fresh AIDA… id; names are unique without regard to case. */
export const createUser: QueryOperation = {
  members: [Members.path(), Members.userName()],
  unsupported: ['Tags', 'PermissionsBoundary'],
  async resource(env, _caller, input) {
    return principalArn(env.accountId, 'user', str(input.Path) ?? '/', input.UserName as string);
  },
  async run(env, _caller, input) {
    const name = input.UserName as string;
    const path = str(input.Path) ?? '/';
    const user: PrincipalRecord = {
      arn: principalArn(env.accountId, 'user', path, name),
      kind: 'user', name, path, uniqueId: newUniqueId('user'), createdMs: env.now(),
    };
    await env.store.transaction(async (tx) => {
      if (await tx.identity.principal('user', name)) throw IamErrors.entityAlreadyExists(IamMessages.userExists(name));
      await tx.identity.putPrincipal(user);
    });
    return { User: userShape(user) };
  },
};

/** DeleteUser: only a user without access keys and inline policies, as IAM. */
export const deleteUser: QueryOperation = {
  members: [Members.existingUserName()],
  resource: (env, _caller, input) => resourceArn(env, 'user', input.UserName as string),
  async run(env, _caller, input) {
    const arn = await env.store.transaction(async (tx) => {
      const u = await requireUser(tx, input.UserName as string);
      if ((await tx.identity.accessKeysOf(u.arn)).length > 0) throw IamErrors.deleteConflict(IamMessages.deleteKeysFirst);
      if ((await tx.identity.policies(u.arn)).length > 0) throw IamErrors.deleteConflict(IamMessages.deletePoliciesFirst);
      await tx.identity.deletePrincipal(u.arn);
      return u.arn;
    });
    env.auth?.invalidatePrincipal(arn);
    return undefined;
  },
};

/** GetUser: the named user, or the caller (root answers with the account's root identity). */
export const getUser: QueryOperation = {
  members: [Members.existingUserName(false)],
  async resource(env, caller, input) {
    if (input.UserName === undefined && caller.kind !== 'assumed-role') return caller.principalArn;
    return resourceArn(env, 'user', targetUserName(caller, input));
  },
  async run(env, caller, input) {
    if (input.UserName === undefined && caller.kind === 'root') {
      const keys = await env.store.read((tx) => tx.identity.accessKeysOf(ROOT_PRINCIPAL));
      const created = Math.min(...keys.map((k) => k.createdMs), env.now());
      return { User: { UserId: env.accountId, Arn: rootArn(env.accountId), CreateDate: new Date(created) } };
    }
    const name = targetUserName(caller, input);
    return { User: userShape(await env.store.read((tx) => requireUser(tx, name))) };
  },
};

/** ListUsers: by name, filtered by path prefix, paged with Marker / MaxItems. */
export const listUsers: QueryOperation = {
  members: [Members.pathPrefix(), Members.marker(), Members.maxItems()],
  resource: async (env, _caller, input) => listingArn(env, 'user', input.PathPrefix),
  async run(env, _caller, input) {
    const all = await env.store.read((tx) => tx.identity.principals('user'));
    const p = page(all.filter((u) => pathMatches(u.path, str(input.PathPrefix))), (u) => u.name, input);
    return { Users: p.items.map(userShape), IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
};
