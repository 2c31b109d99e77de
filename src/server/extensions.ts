import { Errors } from '../errors.js';
import { type ServiceContext, requireSecret } from '../secrets/context.js';
import { eventsView, rotationHistory } from '../rotation/history.js';

/** The X-Amz-Target prefix of Lockstep's own operations (beside `secretsmanager.`). */
export const EXTENSION_PREFIX = 'Lockstep.';

function optionalInt(input: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw Errors.validation(`1 validation error detected: Value at '${name[0].toLowerCase() + name.slice(1)}' failed to satisfy constraint: Member must be a whole number from ${min} to ${max}`);
  }
  return v;
}

function optionalString(input: Record<string, unknown>, name: string): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length < 1 || v.length > 2048) {
    throw Errors.validation(`1 validation error detected: Value at '${name[0].toLowerCase() + name.slice(1)}' failed to satisfy constraint: Member must be a string of 1 to 2048 characters`);
  }
  return v;
}

/** Lockstep's API extensions: rotation history and the event log, in the awsJson1.1 style. */
export const extensions: Record<string, (ctx: ServiceContext, input: Record<string, unknown>) => Promise<Record<string, unknown>>> = {
  /** The runs and steps of a secret's rotations, newest first. */
  async GetRotationHistory(ctx, input) {
    const id = optionalString(input, 'SecretId');
    if (id === undefined) throw Errors.validation("1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null");
    const limit = optionalInt(input, 'MaxResults', 1, 100) ?? 20;
    return ctx.store.read(async (tx) => {
      const s = await requireSecret(ctx, tx, id);
      return { ARN: s.arn, Name: s.name, Runs: await rotationHistory(tx, s, limit) };
    });
  },
  /** The event log (RotationStarted, RotationSucceeded, RotationFailed, ...), oldest first, after an event id. */
  async ListEvents(ctx, input) {
    const id = optionalString(input, 'SecretId');
    const after = optionalInt(input, 'AfterEventId', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const limit = optionalInt(input, 'MaxResults', 1, 1000) ?? 100;
    return ctx.store.read(async (tx) => {
      const arn = id === undefined ? undefined : (await requireSecret(ctx, tx, id)).arn;
      const events = await tx.events.list({ secretArn: arn, afterId: after, limit });
      return { Events: eventsView(events) };
    });
  },
};
