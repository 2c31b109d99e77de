import { envelopeKekId, type SecretValue } from '../crypto/envelope.js';
import type { NamedKeyState } from '../crypto/named-key-cache.js';
import {
  DEFAULT_KEY_ALIAS, aliasArn, isNamedEnvelope, keyArn, keyIdOfKekId, namedKekId, parseKeyRef,
} from '../crypto/named-keys.js';
import type { SecretRecord, Tx, VersionRecord } from '../storage/types.js';
import { DEFAULT_KMS_KEY, openFor, sealFor, type ServiceContext } from './context.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from './labels.js';
import { KmsErrors, aliasMissing, keyMissing } from './kms-errors.js';

/*
 * KmsKeyId: which key seals a secret's values. A secret stores its KmsKeyId as given (key id, key
 * ARN, alias name or alias ARN), which DescribeSecret shows back, as AWS does; null means the default
 * key, alias/aws/secretsmanager (DescribeSecret then leaves the field out). An alias is resolved each
 * time a value is sealed, as KMS resolves it at encrypt time. Each version records the ARN of the key
 * that sealed it (ListSecretVersionIds' KmsKeyIds; DefaultEncryptionKey for the default key).
 */

/** The key a value is sealed with: the default key (the master key), or a named key. */
export type SealKey = { kind: 'default' } | { kind: 'named'; keyId: string; arn: string; state: NamedKeyState };

const DEFAULT_KEY: SealKey = { kind: 'default' };

/** True when a key reference names the default key (or is empty, which UpdateSecret reads as the default). */
function isDefaultRef(ctx: ServiceContext, ref: string): boolean {
  return ref === '' || ref === DEFAULT_KEY_ALIAS || ref === aliasArn(ctx.kmsArnPrefix, DEFAULT_KEY_ALIAS);
}

/**
 * Resolves a key reference inside a transaction. `mode` picks the errors: 'param' for a KmsKeyId
 * being set (not found is ResourceNotFoundException), 'seal' for the stored KmsKeyId of a secret
 * whose value is being written (a key or alias gone since is EncryptionFailure). A disabled key
 * cannot seal in either case.
 */
async function resolveRef(ctx: ServiceContext, tx: Tx, ref: string, mode: 'param' | 'seal'): Promise<SealKey> {
  if (isDefaultRef(ctx, ref)) return DEFAULT_KEY;
  const missing = (kmsMessage: string) => (mode === 'param' ? KmsErrors.notFound(kmsMessage) : KmsErrors.missingForEncrypt(kmsMessage));
  const parsed = parseKeyRef(ref, ctx.kmsArnPrefix);
  if (parsed.kind === 'invalid') throw mode === 'param' ? KmsErrors.invalidKeyId(ref) : KmsErrors.missingForEncrypt(`Invalid keyId ${ref}`);
  if (parsed.kind === 'foreign') {
    throw missing(/:alias\//.test(parsed.arn) ? aliasMissing(parsed.arn) : keyMissing(parsed.arn));
  }
  let keyId: string;
  if (parsed.kind === 'alias') {
    const alias = await tx.keys.alias(parsed.alias);
    if (!alias) throw missing(aliasMissing(aliasArn(ctx.kmsArnPrefix, parsed.alias)));
    keyId = alias.keyId;
  } else {
    keyId = parsed.keyId;
  }
  const arn = keyArn(ctx.kmsArnPrefix, keyId);
  const state = await ctx.keys.load(tx, keyId);
  if (!state) throw missing(keyMissing(arn));
  if (!state.enabled) throw KmsErrors.disabledForEncrypt(arn);
  return { kind: 'named', keyId, arn, state };
}

/** Resolves the KmsKeyId of a CreateSecret or UpdateSecret request: it must name an enabled key. */
export function resolveKmsKeyId(ctx: ServiceContext, tx: Tx, ref: string): Promise<SealKey> {
  return resolveRef(ctx, tx, ref, 'param');
}

/** What a secret stores as its KmsKeyId for a request's reference: as given, or null for the default key. */
export function storedKmsKeyId(key: SealKey, ref: string): string | null {
  return key.kind === 'default' ? null : ref;
}

/** The key new values of a secret are sealed with, resolved now (aliases follow their current target). */
export function sealKeyOf(ctx: ServiceContext, tx: Tx, s: Pick<SecretRecord, 'kmsKeyId'>): Promise<SealKey> {
  return s.kmsKeyId === null ? Promise.resolve(DEFAULT_KEY) : resolveRef(ctx, tx, s.kmsKeyId, 'seal');
}

/** The KmsKeyIds a version sealed with this key lists (ListSecretVersionIds). */
export function kmsKeyIdsOf(key: SealKey): string[] {
  return [key.kind === 'default' ? DEFAULT_KMS_KEY : key.arn];
}

/** Seals a value of one version under a key. */
export function sealUnder(ctx: ServiceContext, key: SealKey, secretArn: string, versionId: string, v: SecretValue): Buffer {
  return sealFor(ctx, secretArn, versionId, v, key.kind === 'named' ? key.state.ring : ctx.keyring);
}

/** Seals a value of one version of a secret under the secret's key, with the KmsKeyIds to record. */
export async function sealForSecret(
  ctx: ServiceContext, tx: Tx, s: SecretRecord, versionId: string, v: SecretValue,
): Promise<{ sealed: Buffer; kmsKeyIds: string[] }> {
  const key = await sealKeyOf(ctx, tx, s);
  return { sealed: sealUnder(ctx, key, s.arn, versionId, v), kmsKeyIds: kmsKeyIdsOf(key) };
}

/** The named key stored bytes are sealed under, if any. */
function namedKeyOf(sealed: Buffer): string | undefined {
  return isNamedEnvelope(sealed) ? keyIdOfKekId(envelopeKekId(sealed) ?? '') : undefined;
}

/** Loads, in the caller's transaction or read, the state of the named key a version is sealed with. */
export async function primeKeyOf(ctx: ServiceContext, tx: Tx, v: VersionRecord, gen?: number): Promise<void> {
  const keyId = v.sealed ? namedKeyOf(v.sealed) : undefined;
  if (keyId !== undefined) await ctx.keys.load(tx, keyId, gen);
}

/** Makes sure the state of a version's named key is current (a cached read), reading it again if not. */
export async function ensureKeyFresh(ctx: ServiceContext, v: VersionRecord): Promise<void> {
  const keyId = v.sealed ? namedKeyOf(v.sealed) : undefined;
  if (keyId !== undefined) await ctx.keys.fresh(keyId);
}

/** Opens a version's value inside a transaction, with its key's state as of that transaction. */
export async function openInTx(ctx: ServiceContext, tx: Tx, secretArn: string, v: VersionRecord): Promise<SecretValue> {
  await primeKeyOf(ctx, tx, v);
  return openFor(ctx, secretArn, v);
}

/** True when stored bytes are sealed under this key (for the default key: under a master key). */
function sealedUnder(sealed: Buffer, key: SealKey): boolean {
  return key.kind === 'default' ? !isNamedEnvelope(sealed) : envelopeKekId(sealed) === namedKekId(key.keyId);
}

/**
 * After UpdateSecret changed the KmsKeyId: re-seals the versions labelled AWSCURRENT, AWSPENDING and
 * AWSPREVIOUS under the new key, in the caller's transaction, as AWS re-encrypts exactly those three.
 * Other versions stay under the key they were sealed with. A version whose old key is disabled
 * cannot be decrypted and is left as it is ("If you don't have kms:Decrypt permission to the
 * previous key ... the existing versions are not re-encrypted").
 */
export async function resealStages(ctx: ServiceContext, tx: Tx, s: SecretRecord, key: SealKey): Promise<void> {
  const done = new Set<string>();
  for (const stage of [AWSCURRENT, AWSPENDING, AWSPREVIOUS]) {
    const v = await tx.secrets.versionByStage(s.id, stage);
    if (!v?.sealed || done.has(v.versionId)) continue;
    done.add(v.versionId);
    if (sealedUnder(v.sealed, key)) continue;
    const oldKey = namedKeyOf(v.sealed);
    if (oldKey !== undefined && (await ctx.keys.load(tx, oldKey))?.enabled === false) continue;
    const value = openFor(ctx, s.arn, v);
    await tx.secrets.resealVersion(s.id, v.versionId, sealUnder(ctx, key, s.arn, v.versionId, value), kmsKeyIdsOf(key));
  }
}
