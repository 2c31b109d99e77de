import { Errors } from '../errors.js';
import { generatePassword } from './password.js';
import type { ServiceContext } from './context.js';
import { secretRefs } from './names.js';
import { batchGetSecretValue, describeSecret, getSecretValue, listSecretVersionIds, listSecrets } from './ops/read.js';
import { createSecret, putSecretValue, updateSecret, updateSecretVersionStage } from './ops/write.js';
import { deleteSecret, restoreSecret } from './ops/lifecycle.js';
import { tagResource, untagResource } from './ops/tags.js';
import { deleteResourcePolicy, getResourcePolicy, putResourcePolicy, validateResourcePolicy } from './ops/policy.js';

/** An operation handler: validated input in, response object out. */
export type Operation = (ctx: ServiceContext, input: Record<string, any>) => Promise<Record<string, unknown>>;

function notYet(what: string): Operation {
  return async (ctx, input) => {
    if (typeof input.SecretId === 'string') secretRefs(input.SecretId, ctx.arnPrefix);
    throw Errors.invalidRequest(`${what} is not available on this Lockstep server yet.`);
  };
}

function noReplication(): Operation {
  return async () => {
    throw Errors.invalidRequest('Replication to other Regions is not supported: a Lockstep server serves one Region.');
  };
}

/** Every Secrets Manager operation, by name. */
export const operations: Record<string, Operation> = {
  BatchGetSecretValue: batchGetSecretValue,
  CreateSecret: createSecret,
  DeleteSecret: deleteSecret,
  DescribeSecret: describeSecret,
  GetRandomPassword: async (_ctx, input) => ({ RandomPassword: generatePassword(input) }),
  GetSecretValue: getSecretValue,
  ListSecretVersionIds: listSecretVersionIds,
  ListSecrets: listSecrets,
  PutSecretValue: putSecretValue,
  RestoreSecret: restoreSecret,
  TagResource: tagResource,
  UntagResource: untagResource,
  UpdateSecret: updateSecret,
  UpdateSecretVersionStage: updateSecretVersionStage,
  RotateSecret: (ctx, input) => (ctx.rotation ? ctx.rotation.rotate(input) : notYet('Rotation (RotateSecret)')(ctx, input)),
  CancelRotateSecret: (ctx, input) =>
    ctx.rotation ? ctx.rotation.cancel(input) : notYet('Rotation (CancelRotateSecret)')(ctx, input),
  GetResourcePolicy: getResourcePolicy,
  PutResourcePolicy: putResourcePolicy,
  DeleteResourcePolicy: deleteResourcePolicy,
  ValidateResourcePolicy: validateResourcePolicy,
  ReplicateSecretToRegions: noReplication(),
  RemoveRegionsFromReplication: noReplication(),
  StopReplicationToReplica: noReplication(),
};
