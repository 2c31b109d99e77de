import { Errors, Messages } from '../errors.js';
import type { Keyring } from '../crypto/keyring.js';
import { envelopeKekId, openValue, sealValue, type SecretValue } from '../crypto/envelope.js';
import { NamedKeyCache } from '../crypto/named-key-cache.js';
import { isNamedEnvelope, keyArn, keyIdOfKekId, kmsArnPrefix } from '../crypto/named-keys.js';
import { KmsErrors } from './kms-errors.js';
import type { SecretAggregate, SecretRecord, Store, Tx, VersionRecord } from '../storage/types.js';
import { arnPrefix, secretRefs } from './names.js';
import { GenerationCache, ReadCache, type SecretFacts } from './read-cache.js';
import { normaliseRules } from '../rotation/schedule.js';

/** Things other parts of the server do when the service changes a secret (rotation uses them). */
export interface ServiceHooks {
  /** Labels of a secret changed in this transaction, `versionId` being the version written or moved. */
  labelsChanged?(tx: Tx, secret: SecretRecord, before: Map<string, string>, after: Map<string, string>, versionId: string): Promise<void>;
}

/** Everything an operation needs: storage, keys, identity of this server, and a clock. */
export interface ServiceContext {
  store: Store;
  hooks?: ServiceHooks;
  /** RotateSecret and CancelRotateSecret, once the rotation engine is running. */
  rotation?: {
    rotate(input: Record<string, any>): Promise<Record<string, unknown>>;
    cancel(input: Record<string, any>): Promise<Record<string, unknown>>;
  };
  readCache: ReadCache;
  /** The secrets authorization decisions are about, by the id a call named. */
  factsCache: GenerationCache<SecretFacts>;
  /** The master keys: they seal values under the default key, and the material of named keys. */
  keyring: Keyring;
  /** Named encryption keys (KmsKeyId) met so far, with their material opened. */
  keys: NamedKeyCache;
  region: string;
  accountId: string;
  partition: string;
  arnPrefix: string;
  /** What key and alias ARNs of this server start with: arn:<partition>:kms:<region>:<account>:. */
  kmsArnPrefix: string;
  now: () => number;
}

/** Builds a service context. */
export function serviceContext(
  opts: Omit<ServiceContext, 'arnPrefix' | 'partition' | 'readCache' | 'factsCache' | 'keys' | 'kmsArnPrefix'> & { partition?: string },
): ServiceContext {
  const partition = opts.partition ?? 'aws';
  const keys = new NamedKeyCache(opts.store, opts.keyring);
  // Every named key, loaded once at start: callers that open values outside a read of their own
  // (the rotation engine) find the key's material here. A failure only means a later load.
  keys.primeAll().catch(() => undefined);
  return {
    ...opts, partition, keys, arnPrefix: arnPrefix(partition, opts.region, opts.accountId),
    kmsArnPrefix: kmsArnPrefix(partition, opts.region, opts.accountId), readCache: new ReadCache(opts.store),
    factsCache: new GenerationCache<SecretFacts>(opts.store),
  };
}

/** The KMS key id AWS reports for versions sealed with the default key. */
export const DEFAULT_KMS_KEY = 'DefaultEncryptionKey';

/** Finds a secret by name, full ARN or partial ARN; undefined when there is none. */
export async function findSecret(ctx: ServiceContext, tx: Tx, secretId: string): Promise<SecretRecord | undefined> {
  for (const ref of secretRefs(secretId, ctx.arnPrefix)) {
    const s = ref.by === 'name' ? await tx.secrets.byName(ref.name) : await tx.secrets.byArn(ref.arn);
    if (s) return s;
  }
  return undefined;
}

/** Finds a secret or throws ResourceNotFoundException. */
export async function requireSecret(ctx: ServiceContext, tx: Tx, secretId: string): Promise<SecretRecord> {
  const s = await findSecret(ctx, tx, secretId);
  if (!s) throw Errors.notFound();
  return s;
}

/** Finds a secret that is not scheduled for deletion, or throws as AWS does. */
export async function requireLiveSecret(ctx: ServiceContext, tx: Tx, secretId: string): Promise<SecretRecord> {
  const s = await requireSecret(ctx, tx, secretId);
  if (s.deletedMs !== null) throw Errors.invalidRequest(Messages.markedForDeletion);
  return s;
}

/**
 * Seals a value for one version of one secret, under the master key (the default key) or under the
 * given named key's keyring (see `sealKeyOf` in encryption-keys.ts, which resolves a secret's key).
 */
export function sealFor(ctx: ServiceContext, secretArn: string, versionId: string, v: SecretValue, ring: Keyring = ctx.keyring): Buffer {
  return sealValue(ring, v, { secretArn, versionId });
}

/**
 * Opens the value of one version of one secret: with the master keys, or with the named key its
 * envelope names (as last loaded; the read path makes sure that state is current). A disabled key
 * refuses as AWS does.
 */
export function openFor(ctx: ServiceContext, secretArn: string, v: VersionRecord): SecretValue {
  if (!v.sealed) throw Errors.notFound(Messages.versionNotFoundForId(v.versionId));
  return openValue(openingRing(ctx, v.sealed), v.sealed, { secretArn, versionId: v.versionId });
}

/** The keyring that opens stored bytes: the master keys, or the named key of a named envelope. */
function openingRing(ctx: ServiceContext, sealed: Buffer): Keyring {
  if (!isNamedEnvelope(sealed)) return ctx.keyring;
  const keyId = keyIdOfKekId(envelopeKekId(sealed) ?? '') ?? '';
  const state = ctx.keys.get(keyId);
  if (!state) throw Errors.decryptionFailure();
  if (!state.enabled) throw KmsErrors.disabledForDecrypt(keyArn(ctx.kmsArnPrefix, keyId));
  return state.ring;
}

/** Epoch seconds, as awsJson1.1 writes timestamps. */
export function epoch(ms: number): number {
  return ms / 1000;
}

/** Midnight UTC of the day that contains ms: LastAccessedDate's granularity. */
export function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}

/** Value fields of a response: SecretString, or SecretBinary in base64. */
export function valueFields(v: SecretValue): Record<string, string> {
  return v.kind === 'string' ? { SecretString: v.text } : { SecretBinary: v.bytes.toString('base64') };
}

/** A label map of labelled versions only: version id -> stages, oldest version first. */
export function versionsToStages(versions: VersionRecord[]): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  let any = false;
  for (const v of versions) {
    if (v.stages.length) {
      out[v.versionId] = v.stages;
      any = true;
    }
  }
  return any ? out : undefined;
}

/** The metadata fields DescribeSecret and ListSecrets share, with empty fields left out. */
export function describeFields(a: SecretAggregate): Record<string, unknown> {
  const s = a.secret;
  const out: Record<string, unknown> = { ARN: s.arn, Name: s.name };
  if (s.description !== null) out.Description = s.description;
  if (s.kmsKeyId !== null) out.KmsKeyId = s.kmsKeyId;
  if (s.rotationEnabled !== null) out.RotationEnabled = s.rotationEnabled;
  if (s.rotationLambdaArn !== null) out.RotationLambdaARN = s.rotationLambdaArn;
  if (s.rotationRules !== null) out.RotationRules = normaliseRules(JSON.parse(s.rotationRules));
  if (s.lastRotatedMs !== null) out.LastRotatedDate = epoch(s.lastRotatedMs);
  out.LastChangedDate = epoch(s.lastChangedMs);
  if (s.lastAccessedMs !== null) out.LastAccessedDate = epoch(s.lastAccessedMs);
  if (s.deletionMs !== null) out.DeletedDate = epoch(s.deletionMs);
  if (s.nextRotationMs !== null && s.rotationEnabled) out.NextRotationDate = epoch(s.nextRotationMs);
  if (s.tagged) out.Tags = a.tags;
  if (s.owningService !== null) out.OwningService = s.owningService;
  out.CreatedDate = epoch(s.createdMs);
  return out;
}

/** Two secret values are the same data. */
export function sameValue(a: SecretValue, b: SecretValue): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind === 'string' ? a.text === (b as typeof a).text : a.bytes.equals((b as typeof a).bytes);
}
