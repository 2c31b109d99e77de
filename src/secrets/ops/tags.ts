import { Errors } from '../../errors.js';
import type { Tag } from '../../storage/types.js';
import { type ServiceContext, requireLiveSecret } from '../context.js';

const MAX_TAGS = 50;

/** Adds or overwrites tags by key, keeping first-seen order; more than 50 is an error. */
export function mergeTags(current: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of added) byKey.set(t.Key, t.Value ?? '');
  if (byKey.size > MAX_TAGS) {
    throw Errors.invalidParameter(`A secret can have at most ${MAX_TAGS} tags.`);
  }
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}

/** TagResource. */
export async function tagResource(ctx: ServiceContext, input: Record<string, any>) {
  await ctx.store.transaction(async (tx) => {
    const s = await requireLiveSecret(ctx, tx, input.SecretId);
    const agg = await tx.secrets.aggregate(s);
    await tx.secrets.setTags(s.id, mergeTags(agg.tags, input.Tags));
    await tx.secrets.updateSecret(s.id, { tagged: true, lastChangedMs: ctx.now() });
  });
  return {};
}

/** UntagResource. */
export async function untagResource(ctx: ServiceContext, input: Record<string, any>) {
  await ctx.store.transaction(async (tx) => {
    const s = await requireLiveSecret(ctx, tx, input.SecretId);
    const agg = await tx.secrets.aggregate(s);
    const drop = new Set<string>(input.TagKeys);
    await tx.secrets.setTags(s.id, agg.tags.filter((t) => !drop.has(t.Key)));
    await tx.secrets.updateSecret(s.id, { tagged: true, lastChangedMs: ctx.now() });
  });
  return {};
}
