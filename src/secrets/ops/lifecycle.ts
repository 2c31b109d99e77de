import { Errors, Messages } from '../../errors.js';
import { type ServiceContext, epoch, findSecret, requireSecret } from '../context.js';

const DAY = 86_400_000;

/** DeleteSecret: schedules deletion after a 7-30 day recovery window, or deletes at once. */
export async function deleteSecret(ctx: ServiceContext, input: Record<string, any>) {
  const force = input.ForceDeleteWithoutRecovery === true;
  const window = input.RecoveryWindowInDays as number | undefined;
  if (force && window !== undefined) {
    throw Errors.invalidParameter(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  }
  if (window !== undefined && (window < 7 || window > 30)) {
    throw Errors.invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
  }
  return ctx.store.transaction(async (tx) => {
    const now = ctx.now();
    const found = await findSecret(ctx, tx, input.SecretId);
    if (!found && force) {
      // AWS: forcibly deleting an already deleted or nonexistent secret is not ResourceNotFoundException.
      const id = input.SecretId as string;
      return id.startsWith('arn:') ? { ARN: id, DeletionDate: epoch(now) } : { Name: id, DeletionDate: epoch(now) };
    }
    if (!found) throw Errors.notFound();
    const s = found;
    if (force) {
      await tx.secrets.deleteSecret(s.id);
      return { ARN: s.arn, Name: s.name, DeletionDate: epoch(now) };
    }
    if (s.deletedMs !== null) {
      throw Errors.invalidRequest(Messages.markedForDeletion);
    }
    const deletionMs = now + (window ?? 30) * DAY;
    await tx.secrets.updateSecret(s.id, { deletedMs: now, deletionMs, lastChangedMs: now });
    return { ARN: s.arn, Name: s.name, DeletionDate: epoch(deletionMs) };
  });
}

/** RestoreSecret: cancels a scheduled deletion. */
export async function restoreSecret(ctx: ServiceContext, input: Record<string, any>) {
  return ctx.store.transaction(async (tx) => {
    const s = await requireSecret(ctx, tx, input.SecretId);
    if (s.deletedMs !== null) {
      await tx.secrets.updateSecret(s.id, { deletedMs: null, deletionMs: null, lastChangedMs: ctx.now() });
    }
    return { ARN: s.arn, Name: s.name };
  });
}

/** Deletes, for good, the secrets whose recovery window has ended; returns how many. */
export async function purgeDeleted(ctx: ServiceContext, batch = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await ctx.store.transaction(async (tx) => {
      const due = await tx.secrets.dueForPurge(ctx.now(), batch);
      for (const s of due) await tx.secrets.deleteSecret(s.id);
      return due.length;
    });
    total += n;
    if (n < batch) return total;
  }
}
