import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Errors } from '../errors.js';
import type { Kek, Keyring } from './kek.js';

/** The envelope format version written by this code. */
export const ENVELOPE_FORMAT = 1;

/** A sealed value: data key wrapped by a key-encryption key, value sealed by the data key. */
export interface Envelope {
  format: number;
  kekId: string;
  wrappedKey: Buffer; // nonce(12) | ciphertext(32) | tag(16) of the data key under the KEK
  nonce: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** What a ciphertext is bound to: it opens only for the same secret ARN and version id. */
export interface SealContext {
  secretArn: string;
  versionId: string;
}

const NONCE = 12;
const TAG = 16;
const WRAPPED = NONCE + 32 + TAG;

/**
 * The associated data both layers are bound to. Fields are NUL-separated with the ARN last: purpose,
 * format and key id are fixed-form and an ARN cannot contain NUL, so distinct contexts never encode
 * alike.
 */
function associatedData(format: number, ctx: SealContext, kekId: string, purpose: string): Buffer {
  return Buffer.from(`lockstep\0${purpose}\0${format}\0${kekId}\0${ctx.versionId}\0${ctx.secretArn}`, 'utf8');
}

/**
 * Unwrapped data keys of recently opened versions, keyed by their wrapped form, so a hot read does
 * one AES-GCM open instead of two. Bounded; the keys live in native memory (KeyObject).
 */
const dataKeys = new Map<string, KeyObject>();
const DATA_KEY_CACHE = 10_000;

function dataKeyId(env: Envelope, ctx: SealContext): string {
  return env.kekId + '\0' + env.wrappedKey.toString('base64') + '\0' + ctx.versionId + '\0' + ctx.secretArn;
}

function cachedDataKey(kek: Kek, env: Envelope, ctx: SealContext): KeyObject {
  const id = dataKeyId(env, ctx);
  const hit = dataKeys.get(id);
  if (hit) return hit;
  const w = env.wrappedKey;
  const dataKey = gcmOpen(
    kek.key,
    w.subarray(0, NONCE),
    w.subarray(NONCE, NONCE + 32),
    w.subarray(NONCE + 32),
    associatedData(env.format, ctx, env.kekId, 'key'),
  );
  // A KeyObject keeps the key in native memory, out of the JS heap, and opens faster than raw bytes.
  const keyObject = createSecretKey(dataKey);
  dataKey.fill(0);
  if (dataKeys.size >= DATA_KEY_CACHE) dataKeys.delete(dataKeys.keys().next().value as string);
  dataKeys.set(id, keyObject);
  return keyObject;
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): { nonce: Buffer; ciphertext: Buffer; tag: Buffer } {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

function gcmOpen(key: Buffer | KeyObject, nonce: Buffer, ciphertext: Buffer, tag: Buffer, aad: Buffer): Buffer {
  if (nonce.length !== NONCE || tag.length !== TAG) throw Errors.decryptionFailure();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw Errors.decryptionFailure();
  }
}

/** Seals plaintext under a fresh 256-bit data key, bound to the secret ARN and version id. */
export function seal(keyring: Keyring, plaintext: Buffer, ctx: SealContext): Envelope {
  const kek = keyring.active;
  const dataKey = randomBytes(32);
  try {
    const wrap = gcmSeal(kek.key, dataKey, associatedData(ENVELOPE_FORMAT, ctx, kek.id, 'key'));
    const body = gcmSeal(dataKey, plaintext, associatedData(ENVELOPE_FORMAT, ctx, kek.id, 'value'));
    return {
      format: ENVELOPE_FORMAT,
      kekId: kek.id,
      wrappedKey: Buffer.concat([wrap.nonce, wrap.ciphertext, wrap.tag]),
      nonce: body.nonce,
      tag: body.tag,
      ciphertext: body.ciphertext,
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Opens an envelope; any tampering, truncation or move to another secret/version gives DecryptionFailure. */
export function open(keyring: Keyring, env: Envelope, ctx: SealContext): Buffer {
  if (env.format !== ENVELOPE_FORMAT || env.wrappedKey.length !== WRAPPED) throw Errors.decryptionFailure();
  const kek = keyring.get(env.kekId);
  if (!kek) throw Errors.decryptionFailure();
  const dataKey = cachedDataKey(kek, env, ctx);
  return gcmOpen(dataKey, env.nonce, env.ciphertext, env.tag, associatedData(env.format, ctx, env.kekId, 'value'));
}

/** Encodes an envelope as bytes for storage: format | kekId length | kekId | wrappedKey | nonce | tag | ciphertext. */
export function encodeEnvelope(env: Envelope): Buffer {
  const kekId = Buffer.from(env.kekId, 'utf8');
  const head = Buffer.from([env.format, kekId.length]);
  return Buffer.concat([head, kekId, env.wrappedKey, env.nonce, env.tag, env.ciphertext]);
}

/** Decodes stored bytes into an envelope; malformed bytes give DecryptionFailure. */
export function decodeEnvelope(bytes: Buffer): Envelope {
  if (bytes.length < 2) throw Errors.decryptionFailure();
  const format = bytes[0];
  const idLen = bytes[1];
  let at = 2;
  const need = at + idLen + WRAPPED + NONCE + TAG;
  if (bytes.length < need) throw Errors.decryptionFailure();
  const kekId = bytes.subarray(at, at + idLen).toString('utf8');
  at += idLen;
  const wrappedKey = bytes.subarray(at, at + WRAPPED);
  at += WRAPPED;
  const nonce = bytes.subarray(at, at + NONCE);
  at += NONCE;
  const tag = bytes.subarray(at, at + TAG);
  at += TAG;
  return { format, kekId, wrappedKey, nonce, tag, ciphertext: bytes.subarray(at) };
}

/** The id of the key-encryption key stored bytes were sealed under, from their header; undefined when malformed. */
export function envelopeKekId(bytes: Buffer): string | undefined {
  if (bytes.length < 2 || bytes.length < 2 + bytes[1]) return undefined;
  return bytes.toString('utf8', 2, 2 + bytes[1]);
}

/** A secret value: text or bytes. */
export type SecretValue = { kind: 'string'; text: string } | { kind: 'binary'; bytes: Buffer };

/** Encodes a secret value as plaintext bytes (a type byte, then the value). */
export function encodeValue(v: SecretValue): Buffer {
  return v.kind === 'string'
    ? Buffer.concat([Buffer.from([0]), Buffer.from(v.text, 'utf8')])
    : Buffer.concat([Buffer.from([1]), v.bytes]);
}

/** Decodes plaintext bytes back into a secret value. */
export function decodeValue(b: Buffer): SecretValue {
  if (b.length === 0) throw Errors.decryptionFailure();
  return b[0] === 0 ? { kind: 'string', text: b.subarray(1).toString('utf8') } : { kind: 'binary', bytes: Buffer.from(b.subarray(1)) };
}

/** Seals a secret value and encodes it for storage in one step. */
export function sealValue(keyring: Keyring, v: SecretValue, ctx: SealContext): Buffer {
  const plain = encodeValue(v);
  try {
    return encodeEnvelope(seal(keyring, plain, ctx));
  } finally {
    plain.fill(0);
  }
}

/** Decodes stored bytes and opens them into a secret value. */
export function openValue(keyring: Keyring, stored: Buffer, ctx: SealContext): SecretValue {
  // The same stored bytes (a read the service caches) are opened again and again: the crypto layer
  // remembers, per buffer object, what it opened them to and for which secret and version. An entry
  // lives exactly as long as the buffer does, so it goes when the read cache lets go of the buffer,
  // and it is never consulted for other bytes or another context.
  const known = opened.get(stored);
  if (known && known.secretArn === ctx.secretArn && known.versionId === ctx.versionId && keyring.get(known.kekId)) {
    return known.value;
  }
  const env = decodeEnvelope(stored);
  const value = decodeValue(open(keyring, env, ctx));
  opened.set(stored, { value, kekId: env.kekId, secretArn: ctx.secretArn, versionId: ctx.versionId });
  return value;
}

const opened = new WeakMap<Buffer, { value: SecretValue; kekId: string; secretArn: string; versionId: string }>();
