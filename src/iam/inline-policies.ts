import type { PrincipalRecord, Tx } from '../storage/types.js';
import { IamErrors, IamMessages } from './errors.js';
import { requireRole, requireUser, resourceArn } from './lookup.js';
import { Members } from './members.js';
import type { QueryOperation } from './operation.js';
import { page } from './paging.js';
import { identityPolicy, policySize } from './policy-documents.js';

/*
 * Inline policies of users and roles: Put/Get/Delete/List{User,Role}Policies, one implementation
 * for both kinds. IAM's quotas on the aggregate size of a principal's inline policies apply
 * (2,048 characters for a user, 10,240 for a role, white space not counted).
 */

interface Kind {
  kind: 'user' | 'role';
  /** The request and response member naming the principal. */
  member: 'UserName' | 'RoleName';
  quota: number;
  require(tx: Tx, name: string): Promise<PrincipalRecord>;
  sizeExceeded(name: string): string;
  notFound(policy: string): string;
}

const USER: Kind = {
  kind: 'user', member: 'UserName', quota: 2048, require: requireUser,
  sizeExceeded: IamMessages.userPolicySize, notFound: IamMessages.noUserPolicy,
};
const ROLE: Kind = {
  kind: 'role', member: 'RoleName', quota: 10240, require: requireRole,
  sizeExceeded: IamMessages.rolePolicySize, notFound: IamMessages.noRolePolicy,
};

const ownerMember = (k: Kind) => (k.kind === 'user' ? Members.existingUserName() : Members.roleName());

function put(k: Kind): QueryOperation {
  return {
    members: [ownerMember(k), Members.policyName(), Members.policyDocument()],
    resource: (env, _caller, input) => resourceArn(env, k.kind, input[k.member] as string),
    async run(env, _caller, input) {
      const policyName = input.PolicyName as string;
      const text = input.PolicyDocument as string;
      identityPolicy(text, policyName);
      const arn = await env.store.transaction(async (tx) => {
        const owner = await k.require(tx, input[k.member] as string);
        const others = (await tx.identity.policies(owner.arn)).filter((p) => p.name !== policyName);
        const total = others.reduce((n, p) => n + policySize(p.document), policySize(text));
        if (total > k.quota) throw IamErrors.limitExceeded(k.sizeExceeded(owner.name));
        await tx.identity.putPolicy(owner.arn, policyName, text);
        return owner.arn;
      });
      env.auth?.invalidatePolicies(arn);
      return undefined;
    },
  };
}

function get(k: Kind): QueryOperation {
  return {
    members: [ownerMember(k), Members.policyName()],
    resource: (env, _caller, input) => resourceArn(env, k.kind, input[k.member] as string),
    async run(env, _caller, input) {
      const policyName = input.PolicyName as string;
      const { owner, doc } = await env.store.read(async (tx) => {
        const o = await k.require(tx, input[k.member] as string);
        return { owner: o, doc: (await tx.identity.policies(o.arn)).find((p) => p.name === policyName) };
      });
      if (!doc) throw IamErrors.noSuchEntity(k.notFound(policyName));
      return { [k.member]: owner.name, PolicyName: doc.name, PolicyDocument: doc.document };
    },
  };
}

function remove(k: Kind): QueryOperation {
  return {
    members: [ownerMember(k), Members.policyName()],
    resource: (env, _caller, input) => resourceArn(env, k.kind, input[k.member] as string),
    async run(env, _caller, input) {
      const policyName = input.PolicyName as string;
      const arn = await env.store.transaction(async (tx) => {
        const owner = await k.require(tx, input[k.member] as string);
        if (!(await tx.identity.deletePolicy(owner.arn, policyName))) throw IamErrors.noSuchEntity(k.notFound(policyName));
        return owner.arn;
      });
      env.auth?.invalidatePolicies(arn);
      return undefined;
    },
  };
}

function list(k: Kind): QueryOperation {
  return {
    members: [ownerMember(k), Members.marker(), Members.maxItems()],
    resource: (env, _caller, input) => resourceArn(env, k.kind, input[k.member] as string),
    async run(env, _caller, input) {
      const docs = await env.store.read(async (tx) => tx.identity.policies((await k.require(tx, input[k.member] as string)).arn));
      const p = page(docs, (d) => d.name, input);
      return { PolicyNames: p.items.map((d) => d.name), IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
  };
}

/** PutUserPolicy. */
export const putUserPolicy = put(USER);
/** PutRolePolicy. */
export const putRolePolicy = put(ROLE);
/** GetUserPolicy (the document as stored; URL-encoded on the wire, as IAM). */
export const getUserPolicy = get(USER);
/** GetRolePolicy. */
export const getRolePolicy = get(ROLE);
/** DeleteUserPolicy. */
export const deleteUserPolicy = remove(USER);
/** DeleteRolePolicy. */
export const deleteRolePolicy = remove(ROLE);
/** ListUserPolicies. */
export const listUserPolicies = list(USER);
/** ListRolePolicies. */
export const listRolePolicies = list(ROLE);
