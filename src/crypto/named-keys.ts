import { randomBytes, randomUUID } from 'node:crypto';
import type { KmsKeyRecord } from '../storage/types.js';
import { openValue, sealValue, type SealContext } from './envelope.js';
import { singleKeyring, type Kek, type Keyring } from './kek.js';

/*
 * Named encryption keys, Lockstep's analogue of KMS keys. A key is a UUID with an ARN
 * (arn:aws:kms:<region>:<account>:key/<uuid>), a description, an enabled flag and 32 bytes of its
 * own key material, stored sealed under the master key. Aliases (alias/<name>) point at keys. The
 * hierarchy is master key -> named key -> data key: a value of a secret with a named key is sealed
 * with a fresh data key wrapped by the named key's material, so disabling the key makes its values
 * unreadable, and rotating the master key re-wraps only the key material, not every value.
 *
 * The default key, alias/aws/secretsmanager, exists implicitly: it is the master key itself (data
 * keys wrapped directly by it), which is how every value written before named keys existed is sealed.
 */

/** The alias of the default key (the master key). */
export const DEFAULT_KEY_ALIAS = 'alias/aws/secretsmanager';

/** The prefix of envelope key ids that name a named key: `key/<uuid>`. */
const NAMED_KEK_PREFIX = 'key/';
const NAMED_KEK_HEADER = Buffer.from([NAMED_KEK_PREFIX.length + 36, ...Buffer.from(NAMED_KEK_PREFIX)]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALIAS = /^alias\/[a-zA-Z0-9/_-]+$/;

/** The envelope key id of a named key. */
export function namedKekId(keyId: string): string {
  return NAMED_KEK_PREFIX + keyId;
}

/** The named key an envelope key id stands for; undefined for a master key id. */
export function keyIdOfKekId(kekId: string): string | undefined {
  return kekId.startsWith(NAMED_KEK_PREFIX) ? kekId.slice(NAMED_KEK_PREFIX.length) : undefined;
}

/** True when stored bytes are sealed under a named key (a look at the header, no decoding). */
export function isNamedEnvelope(bytes: Buffer): boolean {
  return bytes.length > NAMED_KEK_HEADER.length && bytes.compare(NAMED_KEK_HEADER, 0, NAMED_KEK_HEADER.length, 1, 1 + NAMED_KEK_HEADER.length) === 0;
}

/** `arn:<partition>:kms:<region>:<account>:`, what key and alias ARNs of one server start with. */
export function kmsArnPrefix(partition: string, region: string, accountId: string): string {
  return `arn:${partition}:kms:${region}:${accountId}:`;
}

/** The ARN of a named key. */
export function keyArn(prefix: string, keyId: string): string {
  return `${prefix}key/${keyId}`;
}

/** The ARN of an alias (`alias/x`). */
export function aliasArn(prefix: string, alias: string): string {
  return prefix + alias;
}

/** What a KmsKeyId (or a `lockstep keys` argument) names. */
export type KeyRef =
  | { kind: 'key'; keyId: string; arn?: string }
  | { kind: 'alias'; alias: string; arn?: string }
  | { kind: 'foreign'; arn: string } // an ARN of another Region or account
  | { kind: 'invalid' };

/** Parses a key id, key ARN, alias name or alias ARN, as KMS accepts them. */
export function parseKeyRef(ref: string, prefix: string): KeyRef {
  if (UUID.test(ref)) return { kind: 'key', keyId: ref.toLowerCase() };
  if (ref.startsWith('alias/')) return ALIAS.test(ref) ? { kind: 'alias', alias: ref } : { kind: 'invalid' };
  const m = /^arn:[a-z-]+:kms:[a-z0-9-]*:\d*:(key\/.+|alias\/.+)$/.exec(ref);
  if (!m) return { kind: 'invalid' };
  const resource = m[1];
  if (!ref.startsWith(prefix)) return { kind: 'foreign', arn: ref };
  if (resource.startsWith('alias/')) return ALIAS.test(resource) ? { kind: 'alias', alias: resource, arn: ref } : { kind: 'invalid' };
  const id = resource.slice('key/'.length);
  return UUID.test(id) ? { kind: 'key', keyId: id.toLowerCase(), arn: ref } : { kind: 'invalid' };
}

/** Why an alias name cannot be created (KMS's rules), or undefined when it can. */
export function aliasNameProblem(name: string): string | undefined {
  if (!name.startsWith('alias/')) return `the alias name ${name} must begin with alias/`;
  if (name.length > 256) return 'an alias name can be at most 256 characters';
  if (!ALIAS.test(name)) return `the alias name ${name} may hold only letters, digits, '/', '_' and '-' after alias/`;
  if (name.startsWith('alias/aws/')) return `the alias name ${name} is reserved: names beginning with alias/aws/ belong to the default key`;
  return undefined;
}

/** What a named key's material is bound to when sealed under the master key. */
export function materialContext(keyId: string): SealContext {
  return { secretArn: `lockstep:kms-key:${keyId}`, versionId: 'material' };
}

/** A new named key: a fresh UUID and 32 random bytes of material sealed under the active master key. */
export function newNamedKey(master: Keyring, description: string, nowMs: number): KmsKeyRecord {
  const keyId = randomUUID();
  const material = randomBytes(32);
  try {
    const sealedMaterial = sealValue(master, { kind: 'binary', bytes: material }, materialContext(keyId));
    return { keyId, description, enabled: true, sealedMaterial, createdMs: nowMs };
  } finally {
    material.fill(0);
  }
}

/** Opens a named key's material with the master keys: the key-encryption key its values are sealed with. */
export function openNamedKey(master: Keyring, k: Pick<KmsKeyRecord, 'keyId' | 'sealedMaterial'>): Kek {
  const v = openValue(master, k.sealedMaterial, materialContext(k.keyId));
  if (v.kind !== 'binary' || v.bytes.length !== 32) throw new Error(`the material of key ${k.keyId} is not a 32-byte key`);
  return { id: namedKekId(k.keyId), key: v.bytes };
}

/** The keyring that seals and opens values under one named key. */
export function namedKeyring(kek: Kek): Keyring {
  return singleKeyring(kek);
}
