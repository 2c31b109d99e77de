import { Errors } from '../../errors.js';
import type { SecretValue } from '../../crypto/envelope.js';
import type { SecretAggregate, Tx } from '../../storage/types.js';
import { type ServiceContext, sameValue } from '../context.js';
import { openInTx, sealForSecret } from '../encryption-keys.js';
import { AWSCURRENT, attach, labelMapOf, stagesOf, versionsToPurge } from '../labels.js';

/** The outcome of adding a version: its id and the labels it carries afterwards. */
export interface AddedVersion {
  versionId: string;
  stages: string[];
}

/**
 * Adds a version to a secret (CreateSecret, PutSecretValue, UpdateSecret). A token that names an
 * existing version with the same value is a no-op (unless `idempotent` is false, as for UpdateSecret);
 * with another value it is ResourceExistsException.
 * Without explicit stages the version becomes AWSCURRENT, and so does the first version of a secret.
 */
export async function addVersion(
  ctx: ServiceContext,
  tx: Tx,
  agg: SecretAggregate,
  token: string,
  value: SecretValue,
  stages: string[] | undefined,
  idempotent = true,
): Promise<AddedVersion> {
  const s = agg.secret;
  const existing = await tx.secrets.version(s.id, token);
  // A rotation's AWSPENDING placeholder (a version without a value) is filled, not refused.
  const placeholder = existing !== undefined && existing.sealed === null;
  if (existing && !placeholder) {
    if (idempotent && existing.sealed && sameValue(await openInTx(ctx, tx, s.arn, existing), value)) {
      return { versionId: token, stages: existing.stages };
    }
    throw Errors.resourceExists(
      'You can’t modify an existing version, you can only create a new version.',
    );
  }
  const now = ctx.now();
  const labels = labelMapOf(agg.versions);
  const wanted = stages ?? [AWSCURRENT];
  const next = attach(labels, token, labels.has(AWSCURRENT) ? wanted : [...wanted, AWSCURRENT], true);
  const { sealed, kmsKeyIds } = await sealForSecret(ctx, tx, s, token, value);
  if (placeholder) {
    await tx.secrets.fillVersion(s.id, token, sealed, kmsKeyIds);
  } else {
    await tx.secrets.insertVersion(s.id, { versionId: token, createdMs: now, lastAccessedMs: null, sealed, kmsKeyIds, stages: [] });
  }
  await tx.secrets.setLabels(s.id, next);
  if (ctx.hooks?.labelsChanged) await ctx.hooks.labelsChanged(tx, s, labels, next, token);
  const all = [...agg.versions, { versionId: token, createdMs: now }];
  for (const id of versionsToPurge(all, next, now)) await tx.secrets.deleteVersion(s.id, id);
  await tx.secrets.updateSecret(s.id, { lastChangedMs: now });
  return { versionId: token, stages: stagesOf(next, token) };
}

/** The secret value of a request: SecretString or SecretBinary, never both. */
export function valueOf(input: { SecretString?: string; SecretBinary?: Buffer }): SecretValue | undefined {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
    throw Errors.invalidParameter(
      'You can\'t specify both a binary secret value and a string secret value in the same secret.',
    );
  }
  if (input.SecretString !== undefined) return { kind: 'string', text: input.SecretString };
  if (input.SecretBinary !== undefined) return { kind: 'binary', bytes: input.SecretBinary };
  return undefined;
}
