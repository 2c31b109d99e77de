import type { PrincipalRecord } from '../storage/types.js';
import type { IamEnv } from './env.js';
import { IamErrors, IamMessages } from './errors.js';
import { listingArn, requireRole, resourceArn } from './lookup.js';
import { Members } from './members.js';
import { newUniqueId, pathMatches, principalArn } from './names.js';
import type { QueryOperation } from './operation.js';
import { page } from './paging.js';
import { awsPrincipals, policySize, trustPolicy } from './policy-documents.js';
import type { XmlValue } from './xml.js';

/** IAM's default and bounds of a role's MaxSessionDuration, in seconds. */
export const DEFAULT_MAX_SESSION_S = 3600;
/** IAM's quota on the size of a trust policy (characters other than white space). */
export const TRUST_POLICY_QUOTA = 2048;

/** A role in IAM's `Role` shape (the trust policy as stored; the XML layer URL-encodes it, as IAM). */
export function roleShape(r: PrincipalRecord): Record<string, XmlValue> {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.uniqueId,
    Arn: r.arn,
    CreateDate: new Date(r.createdMs),
    AssumeRolePolicyDocument: r.trustPolicy ?? undefined,
    Description: r.description ?? undefined,
    MaxSessionDuration: r.maxSessionS ?? DEFAULT_MAX_SESSION_S,
  };
}

const str = (v: string | number | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Checks a trust policy as IAM does on CreateRole / UpdateAssumeRolePolicy: valid, within the size
 * quota, and naming only users and roles of this account that exist.
 */
async function checkTrustPolicy(env: IamEnv, text: string): Promise<void> {
  const policy = trustPolicy(text);
  if (policySize(text) > TRUST_POLICY_QUOTA) throw IamErrors.limitExceeded(IamMessages.trustPolicyQuota);
  const own = new RegExp(`^arn:aws:iam::${env.accountId}:(user|role)/(?:.*/)?([^/]+)$`);
  for (const value of awsPrincipals(policy)) {
    const m = own.exec(value);
    if (!m) continue;
    const found = await env.store.read((tx) => tx.identity.principalByArn(value));
    if (!found || found.kind !== m[1]) throw IamErrors.malformedPolicy(`Invalid principal in policy: "AWS":"${value}"`);
  }
}

/** CreateRole: a role with its trust policy, a fresh AROA… id and MaxSessionDuration (default 3600 s). */
export const createRole: QueryOperation = {
  members: [Members.path(), Members.roleName(), Members.policyDocument('AssumeRolePolicyDocument'), Members.description(), Members.maxSessionDuration()],
  unsupported: ['Tags', 'PermissionsBoundary'],
  async resource(env, _caller, input) {
    return principalArn(env.accountId, 'role', str(input.Path) ?? '/', input.RoleName as string);
  },
  async run(env, _caller, input) {
    const name = input.RoleName as string;
    const path = str(input.Path) ?? '/';
    const trust = input.AssumeRolePolicyDocument as string;
    await checkTrustPolicy(env, trust);
    const role: PrincipalRecord = {
      arn: principalArn(env.accountId, 'role', path, name),
      kind: 'role', name, path, uniqueId: newUniqueId('role'), createdMs: env.now(),
      trustPolicy: trust,
      description: str(input.Description) ?? null,
      maxSessionS: typeof input.MaxSessionDuration === 'number' ? input.MaxSessionDuration : DEFAULT_MAX_SESSION_S,
    };
    await env.store.transaction(async (tx) => {
      if (await tx.identity.principal('role', name)) throw IamErrors.entityAlreadyExists(IamMessages.roleExists(name));
      await tx.identity.putPrincipal(role);
    });
    return { Role: roleShape(role) };
  },
};

/** DeleteRole: only a role without inline policies; its sessions stop working at once. */
export const deleteRole: QueryOperation = {
  members: [Members.roleName()],
  resource: (env, _caller, input) => resourceArn(env, 'role', input.RoleName as string),
  async run(env, _caller, input) {
    const arn = await env.store.transaction(async (tx) => {
      const r = await requireRole(tx, input.RoleName as string);
      if ((await tx.identity.policies(r.arn)).length > 0) throw IamErrors.deleteConflict(IamMessages.deletePoliciesFirst);
      await tx.identity.deletePrincipal(r.arn); // with its sessions' temporary keys
      return r.arn;
    });
    env.auth?.invalidatePrincipal(arn);
    return undefined;
  },
};

/** GetRole. */
export const getRole: QueryOperation = {
  members: [Members.roleName()],
  resource: (env, _caller, input) => resourceArn(env, 'role', input.RoleName as string),
  async run(env, _caller, input) {
    const r = await env.store.read((tx) => requireRole(tx, input.RoleName as string));
    return { Role: { ...roleShape(r), RoleLastUsed: {} } };
  },
};

/** ListRoles: by name, filtered by path prefix, paged with Marker / MaxItems. */
export const listRoles: QueryOperation = {
  members: [Members.pathPrefix(), Members.marker(), Members.maxItems()],
  resource: async (env, _caller, input) => listingArn(env, 'role', input.PathPrefix),
  async run(env, _caller, input) {
    const all = await env.store.read((tx) => tx.identity.principals('role'));
    const p = page(all.filter((r) => pathMatches(r.path, str(input.PathPrefix))), (r) => r.name, input);
    return { Roles: p.items.map(roleShape), IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
};

/** UpdateAssumeRolePolicy: replaces a role's trust policy (sessions already issued keep working). */
export const updateAssumeRolePolicy: QueryOperation = {
  members: [Members.roleName(), Members.policyDocument()],
  resource: (env, _caller, input) => resourceArn(env, 'role', input.RoleName as string),
  async run(env, _caller, input) {
    const text = input.PolicyDocument as string;
    await checkTrustPolicy(env, text);
    await env.store.transaction(async (tx) => {
      const r = await requireRole(tx, input.RoleName as string);
      await tx.identity.putPrincipal({ ...r, trustPolicy: text });
    });
    return undefined;
  },
};
