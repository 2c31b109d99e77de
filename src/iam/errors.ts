import { ServiceError } from '../errors.js';

/*
 * IAM's and STS's errors (the query protocol): codes and HTTP statuses from the official models
 * (botocore's iam/2010-05-08 and sts/2011-06-15), messages in IAM's words.
 */

/** IAM's messages, in its words. */
export const IamMessages = {
  userExists: (name: string) => `User with name ${name} already exists.`,
  roleExists: (name: string) => `Role with name ${name} already exists.`,
  noUser: (name: string) => `The user with name ${name} cannot be found.`,
  noRole: (name: string) => `The role with name ${name} cannot be found.`,
  noUserPolicy: (policy: string) => `The user policy with name ${policy} cannot be found.`,
  noRolePolicy: (policy: string) => `The role policy with name ${policy} cannot be found.`,
  noAccessKey: (id: string) => `The Access Key with id ${id} cannot be found.`,
  deleteKeysFirst: 'Cannot delete entity, must delete access keys first.',
  deletePoliciesFirst: 'Cannot delete entity, must delete policies first.',
  accessKeyQuota: 'Cannot exceed quota for AccessKeysPerUser: 2',
  trustPolicyQuota: 'Cannot exceed quota for ACLSizePerRole: 2048',
  userPolicySize: (user: string) => `Maximum policy size of 2048 bytes exceeded for user ${user}`,
  rolePolicySize: (role: string) => `Maximum policy size of 10240 bytes exceeded for role ${role}`,
  needUserName: 'Must specify userName when calling with non-User credentials',
  syntax: 'Syntax errors in policy.',
} as const;

/** Constructors for IAM's and STS's errors. */
export const IamErrors = {
  validation: (message: string) => new ServiceError('ValidationError', message, 400),
  noSuchEntity: (message: string) => new ServiceError('NoSuchEntity', message, 404),
  entityAlreadyExists: (message: string) => new ServiceError('EntityAlreadyExists', message, 409),
  deleteConflict: (message: string) => new ServiceError('DeleteConflict', message, 409),
  limitExceeded: (message: string) => new ServiceError('LimitExceeded', message, 409),
  malformedPolicy: (message: string) => new ServiceError('MalformedPolicyDocument', message, 400),
  invalidInput: (message: string) => new ServiceError('InvalidInput', message, 400),
  accessDenied: (message: string) => new ServiceError('AccessDenied', message, 403),
  invalidAction: (action: string, version: string) =>
    new ServiceError('InvalidAction', `Could not find operation ${action} for version ${version}`, 400),
  missingAction: () => new ServiceError('MissingAction', 'Missing Action', 400),
};

/**
 * The query protocol's names for the signature errors the verifier raises in awsJson's: IAM and STS
 * answer InvalidClientTokenId, SignatureDoesNotMatch, ExpiredToken and MissingAuthenticationToken
 * with HTTP 403, IncompleteSignature with 400.
 */
const QUERY_AUTH_ERRORS: Record<string, { code: string; status: number; message?: string }> = {
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403, message: 'Request is missing Authentication Token' },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  ExpiredTokenException: { code: 'ExpiredToken', status: 403 },
};

/** An authentication error as IAM and STS name it. */
export function queryAuthError(e: ServiceError): ServiceError {
  const m = Object.hasOwn(QUERY_AUTH_ERRORS, e.code) ? QUERY_AUTH_ERRORS[e.code] : undefined;
  return m === undefined ? e : new ServiceError(m.code, m.message ?? e.message, m.status);
}
