import type { QueryOperation } from './operation.js';
import { createUser, deleteUser, getUser, listUsers } from './users.js';
import { createAccessKey, deleteAccessKey, listAccessKeys, updateAccessKey } from './user-keys.js';
import { createRole, deleteRole, getRole, listRoles, updateAssumeRolePolicy } from './roles.js';
import {
  deleteRolePolicy, deleteUserPolicy, getRolePolicy, getUserPolicy, listRolePolicies, listUserPolicies, putRolePolicy, putUserPolicy,
} from './inline-policies.js';

/** The IAM API version the operations answer to. */
export const IAM_VERSION = '2010-05-08';
/** The XML namespace of IAM's responses. */
export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** The IAM operations Lockstep serves, by action name; each is authorized as `iam:<Action>`. */
export const iamOperations: Readonly<Record<string, QueryOperation>> = {
  CreateUser: createUser,
  DeleteUser: deleteUser,
  GetUser: getUser,
  ListUsers: listUsers,
  CreateAccessKey: createAccessKey,
  UpdateAccessKey: updateAccessKey,
  DeleteAccessKey: deleteAccessKey,
  ListAccessKeys: listAccessKeys,
  CreateRole: createRole,
  DeleteRole: deleteRole,
  GetRole: getRole,
  ListRoles: listRoles,
  UpdateAssumeRolePolicy: updateAssumeRolePolicy,
  PutUserPolicy: putUserPolicy,
  PutRolePolicy: putRolePolicy,
  GetUserPolicy: getUserPolicy,
  GetRolePolicy: getRolePolicy,
  DeleteUserPolicy: deleteUserPolicy,
  DeleteRolePolicy: deleteRolePolicy,
  ListUserPolicies: listUserPolicies,
  ListRolePolicies: listRolePolicies,
};
