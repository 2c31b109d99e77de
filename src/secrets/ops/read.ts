import { Errors, Messages } from '../../errors.js';
import type { FilterKey, ListQuery, SecretRecord, SortBy, Tx, VersionRecord } from '../../storage/types.js';
import {
  type ServiceContext, dayOf, describeFields, epoch, openFor, requireLiveSecret, requireSecret, valueFields,
  versionsToStages,
} from '../context.js';
import { AWSCURRENT } from '../labels.js';
import { ensureKeyFresh, primeKeyOf } from '../encryption-keys.js';
import { decodePageToken, encodePageToken } from '../page-token.js';
import { ReadCache } from '../read-cache.js';

type Input = Record<string, any>;

async function pickVersion(tx: Tx, s: SecretRecord, versionId?: string, stage?: string): Promise<VersionRecord> {
  if (versionId !== undefined) {
    const v = await tx.secrets.version(s.id, versionId);
    if (!v || !v.sealed) throw Errors.notFound(Messages.versionNotFoundForId(versionId));
    if (stage !== undefined && !v.stages.includes(stage)) throw Errors.invalidRequest(Messages.stageNotOnVersion);
    return v;
  }
  const label = stage ?? AWSCURRENT;
  const v = await tx.secrets.versionByStage(s.id, label);
  if (!v || !v.sealed) throw Errors.notFound(Messages.versionNotFoundForStage(label));
  return v;
}

/** Records the day a version was read (at most one write per version per day). */
async function touch(ctx: ServiceContext, s: SecretRecord, v: VersionRecord): Promise<void> {
  const day = dayOf(ctx.now());
  if (v.lastAccessedMs === day && s.lastAccessedMs === day) return;
  await ctx.store.transaction((tx) => tx.secrets.touchVersion(s.id, v.versionId, day));
}

function valueResponse(ctx: ServiceContext, s: SecretRecord, v: VersionRecord): Record<string, unknown> {
  return {
    ARN: s.arn,
    Name: s.name,
    VersionId: v.versionId,
    ...valueFields(openFor(ctx, s.arn, v)),
    VersionStages: v.stages,
    CreatedDate: epoch(v.createdMs),
  };
}

/** GetSecretValue: the value of AWSCURRENT, or of a version chosen by id and/or label. */
export async function getSecretValue(ctx: ServiceContext, input: Input) {
  const key = ReadCache.key(input.SecretId, input.VersionId, input.VersionStage);
  let hit = ctx.readCache.get(key);
  if (!hit) {
    hit = await ctx.store.read(async (tx) => {
      const gen = ctx.store.generation;
      const secret = await requireLiveSecret(ctx, tx, input.SecretId);
      const read = { secret, version: await pickVersion(tx, secret, input.VersionId, input.VersionStage) };
      await primeKeyOf(ctx, tx, read.version, gen); // a named key's state, as of this same read
      ctx.readCache.set(key, gen, read);
      return read;
    });
  } else {
    await ensureKeyFresh(ctx, hit.version);
  }
  const out = valueResponse(ctx, hit.secret, hit.version);
  await touch(ctx, hit.secret, hit.version);
  return out;
}

/** BatchGetSecretValue: AWSCURRENT values of listed ids or of the secrets a filter finds. */
export async function batchGetSecretValue(ctx: ServiceContext, input: Input) {
  const ids: string[] | undefined = input.SecretIdList;
  const filters = input.Filters;
  if ((ids === undefined) === (filters === undefined)) {
    throw Errors.invalidParameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.");
  }
  const values: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  let nextToken: string | undefined;
  let targets: { id: string; secret?: SecretRecord }[];
  if (ids) {
    if (input.MaxResults !== undefined || input.NextToken !== undefined) {
      throw Errors.invalidParameter('MaxResults and NextToken can only be used with Filters.');
    }
    targets = await ctx.store.read(async (tx) =>
      Promise.all(ids.map(async (id) => ({ id, secret: await requireSecret(ctx, tx, id).catch(() => undefined) }))),
    );
  } else {
    const page = await listPage(ctx, { Filters: filters, MaxResults: input.MaxResults ?? 20, NextToken: input.NextToken });
    targets = page.items.map((a) => ({ id: a.secret.arn, secret: a.secret }));
    nextToken = page.nextToken;
  }
  for (const t of targets) {
    try {
      if (!t.secret) throw Errors.notFound();
      const s = t.secret;
      if (s.deletedMs !== null) throw Errors.invalidRequest(Messages.markedForDeletion);
      const v = await ctx.store.read(async (tx) => {
        const gen = ctx.store.generation;
        const picked = await pickVersion(tx, s);
        await primeKeyOf(ctx, tx, picked, gen);
        return picked;
      });
      values.push(valueResponse(ctx, s, v));
      await touch(ctx, s, v);
    } catch (e) {
      const err = e as { code?: string; message: string };
      if (!err.code || err.code === 'InternalServiceError') throw e;
      errors.push({ SecretId: t.id, ErrorCode: err.code, Message: err.message });
    }
  }
  const out: Record<string, unknown> = { SecretValues: values, Errors: errors };
  if (nextToken) out.NextToken = nextToken;
  return out;
}

/** DescribeSecret: metadata, labels and tags, never the value. */
export async function describeSecret(ctx: ServiceContext, input: Input) {
  return ctx.store.read(async (tx) => {
    const agg = await tx.secrets.aggregate(await requireSecret(ctx, tx, input.SecretId));
    const out = describeFields(agg);
    const stages = versionsToStages(agg.versions);
    if (stages) out.VersionIdsToStages = stages;
    return out;
  });
}

const SORTS: SortBy[] = ['created-date', 'last-accessed-date', 'last-changed-date', 'name'];

function isPosition(p: unknown): p is { sort: string | number | null; id: number } {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  return typeof o.id === 'number' && (o.sort === null || typeof o.sort === 'string' || typeof o.sort === 'number');
}

async function listPage(ctx: ServiceContext, input: Input) {
  const filters = ((input.Filters ?? []) as { Key?: FilterKey; Values?: string[] }[]).map((f) => {
    if (f.Key === undefined) throw Errors.invalidParameter('Invalid filter key');
    return { key: f.Key, values: f.Values ?? [] };
  });
  const sortBy: SortBy = SORTS.includes(input.SortBy) ? input.SortBy : 'created-date';
  const sortOrder: 'asc' | 'desc' = input.SortOrder === 'desc' ? 'desc' : 'asc';
  const includePlannedDeletion = input.IncludePlannedDeletion === true;
  const shape = { filters, sortBy, sortOrder, includePlannedDeletion };
  const after = input.NextToken !== undefined ? decodePageToken(input.NextToken, shape, isPosition) : null;
  const q: ListQuery = { ...shape, limit: input.MaxResults ?? 100, after };
  const page = await ctx.store.read((tx) => tx.secrets.list(q));
  return { items: page.items, nextToken: page.next ? encodePageToken(shape, page.next) : undefined };
}

/** ListSecrets: filters, sort and keyset pagination. */
export async function listSecrets(ctx: ServiceContext, input: Input) {
  const page = await listPage(ctx, input);
  const out: Record<string, unknown> = {
    SecretList: page.items.map((a) => {
      const e = describeFields(a);
      const stages = versionsToStages(a.versions);
      if (stages) e.SecretVersionsToStages = stages;
      return e;
    }),
  };
  if (page.nextToken) out.NextToken = page.nextToken;
  return out;
}

/** ListSecretVersionIds: versions oldest first; unlabelled ones only with IncludeDeprecated. */
export async function listSecretVersionIds(ctx: ServiceContext, input: Input) {
  return ctx.store.read(async (tx) => {
    const s = await requireSecret(ctx, tx, input.SecretId);
    const agg = await tx.secrets.aggregate(s);
    const all = input.IncludeDeprecated === true ? agg.versions : agg.versions.filter((v) => v.stages.length > 0);
    const shape = { secret: s.arn, deprecated: input.IncludeDeprecated === true };
    const start = input.NextToken !== undefined
      ? decodePageToken(input.NextToken, shape, (p): p is number => Number.isInteger(p) && (p as number) >= 0)
      : 0;
    const limit = input.MaxResults ?? 100;
    const page = all.slice(start, start + limit);
    const out: Record<string, unknown> = {
      Versions: page.map((v) => {
        const e: Record<string, unknown> = { VersionId: v.versionId };
        if (v.stages.length) e.VersionStages = v.stages;
        if (v.lastAccessedMs !== null) e.LastAccessedDate = epoch(v.lastAccessedMs);
        e.CreatedDate = epoch(v.createdMs);
        e.KmsKeyIds = v.kmsKeyIds;
        return e;
      }),
    };
    if (start + limit < all.length) out.NextToken = encodePageToken(shape, start + limit);
    out.ARN = s.arn;
    out.Name = s.name;
    return out;
  });
}
