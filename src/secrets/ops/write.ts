import { Errors, Messages } from '../../errors.js';
import type { Tag } from '../../storage/types.js';
import { type ServiceContext, requireLiveSecret } from '../context.js';
import { labelMapOf } from '../labels.js';
import { moveStage } from '../labels.js';
import { assertValidName, randomSuffix } from '../names.js';
import { addVersion, valueOf } from './versions.js';
import { resealStages, resolveKmsKeyId, storedKmsKeyId, type SealKey } from '../encryption-keys.js';
import { mergeTags } from './tags.js';

type Input = Record<string, any>;

function requireToken(input: Input): string {
  const token = input.ClientRequestToken as string | undefined;
  if (token === undefined) throw Errors.invalidRequest(Messages.tokenRequired);
  return token;
}

/** CreateSecret: a new secret, with a first version when a value is given. */
export async function createSecret(ctx: ServiceContext, input: Input) {
  const name = input.Name as string;
  assertValidName(name);
  const value = valueOf(input);
  if (input.AddReplicaRegions !== undefined) {
    throw Errors.invalidRequest('Replication to other Regions is not supported: a Lockstep server serves one Region.');
  }
  if (input.Type !== undefined) {
    throw Errors.invalidParameter('Managed external secrets (Type) are not supported.');
  }
  const token = value ? requireToken(input) : undefined;
  return ctx.store.transaction(async (tx) => {
    const existing = await tx.secrets.byName(name);
    if (existing) {
      if (existing.deletedMs !== null) throw Errors.invalidRequest(Messages.scheduledForDeletion);
      // A retry of the same create (same token, same value) succeeds without change.
      if (token && value) {
        const v = await tx.secrets.version(existing.id, token);
        if (v) {
          const agg = await tx.secrets.aggregate(existing);
          await addVersion(ctx, tx, agg, token, value, undefined);
          return { ARN: existing.arn, Name: existing.name, VersionId: token };
        }
      }
      throw Errors.resourceExists(Messages.secretExists(name));
    }
    const kmsKeyId = input.KmsKeyId === undefined ? null : storedKmsKeyId(await resolveKmsKeyId(ctx, tx, input.KmsKeyId), input.KmsKeyId);
    const now = ctx.now();
    const tags: Tag[] | undefined = input.Tags ? mergeTags([], input.Tags) : undefined;
    const secret = {
      arn: `${ctx.arnPrefix}${name}-${randomSuffix()}`,
      name,
      description: input.Description || null,
      kmsKeyId,
      createdMs: now,
      lastChangedMs: now,
      lastAccessedMs: null,
      deletedMs: null,
      deletionMs: null,
      rotationEnabled: null,
      rotationLambdaArn: null,
      rotationRules: null,
      lastRotatedMs: null,
      nextRotationMs: null,
      rotationDueMs: null,
      owningService: null,
      primaryRegion: ctx.region,
      resourcePolicy: null,
      tagged: tags !== undefined,
    };
    const id = await tx.secrets.insertSecret(secret);
    if (tags) await tx.secrets.setTags(id, tags);
    const out: Record<string, unknown> = { ARN: secret.arn, Name: name };
    if (value && token) {
      await addVersion(ctx, tx, { secret: { ...secret, id }, versions: [], tags: tags ?? [] }, token, value, undefined);
      out.VersionId = token;
    }
    return out;
  });
}

/** PutSecretValue: a new version with the given labels (AWSCURRENT by default). */
export async function putSecretValue(ctx: ServiceContext, input: Input) {
  const value = valueOf(input);
  if (!value) throw Errors.invalidParameter('You must provide either SecretString or SecretBinary.');
  const token = requireToken(input);
  return ctx.store.transaction(async (tx) => {
    const s = await requireLiveSecret(ctx, tx, input.SecretId);
    const agg = await tx.secrets.aggregate(s);
    const added = await addVersion(ctx, tx, agg, token, value, input.VersionStages);
    return { ARN: s.arn, Name: s.name, VersionId: added.versionId, VersionStages: added.stages };
  });
}

/** UpdateSecret: description and key (re-sealing the three AWS labels under a new key), and a new AWSCURRENT version when a value is given. */
export async function updateSecret(ctx: ServiceContext, input: Input) {
  const value = valueOf(input);
  if (input.Type !== undefined) throw Errors.invalidParameter('Managed external secrets (Type) are not supported.');
  const token = value ? requireToken(input) : undefined;
  return ctx.store.transaction(async (tx) => {
    const s = await requireLiveSecret(ctx, tx, input.SecretId);
    const patch: Record<string, unknown> = {};
    if (input.Description !== undefined) patch.description = input.Description || null;
    let newKey: SealKey | undefined;
    if (input.KmsKeyId !== undefined) {
      newKey = await resolveKmsKeyId(ctx, tx, input.KmsKeyId); // '' means the default key
      patch.kmsKeyId = storedKmsKeyId(newKey, input.KmsKeyId);
    }
    if (Object.keys(patch).length) {
      patch.lastChangedMs = ctx.now();
      await tx.secrets.updateSecret(s.id, patch);
    }
    const out: Record<string, unknown> = { ARN: s.arn, Name: s.name };
    if (value && token) {
      const agg = await tx.secrets.aggregate({ ...s, ...patch });
      // AWS: UpdateSecret with the token of an existing version is an error, whatever the value.
      await addVersion(ctx, tx, agg, token, value, undefined, false);
      out.VersionId = token;
    }
    // A new key re-seals AWSCURRENT, AWSPENDING and AWSPREVIOUS (after the new version took its labels).
    if (newKey) await resealStages(ctx, tx, { ...s, ...patch }, newKey);
    return out;
  });
}

/** UpdateSecretVersionStage: moves or removes one staging label. */
export async function updateSecretVersionStage(ctx: ServiceContext, input: Input) {
  return ctx.store.transaction(async (tx) => {
    const s = await requireLiveSecret(ctx, tx, input.SecretId);
    const agg = await tx.secrets.aggregate(s);
    const ids = new Set(agg.versions.map((v) => v.versionId));
    const before = labelMapOf(agg.versions);
    const next = moveStage(before, input.VersionStage, input.MoveToVersionId, input.RemoveFromVersionId, (id) =>
      ids.has(id),
    );
    await tx.secrets.setLabels(s.id, next);
    if (ctx.hooks?.labelsChanged) await ctx.hooks.labelsChanged(tx, s, before, next, input.MoveToVersionId ?? input.RemoveFromVersionId);
    await tx.secrets.updateSecret(s.id, { lastChangedMs: ctx.now() });
    return { ARN: s.arn, Name: s.name };
  });
}
