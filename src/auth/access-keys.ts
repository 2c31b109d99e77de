import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import { openValue, sealValue } from '../crypto/envelope.js';
import type { AccessKeyRecord } from '../storage/types.js';

/*
 * Access key pairs: ids, secrets and session tokens, and how their secret parts are sealed.
 * Lockstep's key ids follow AWS's shape (20 characters, a four-letter prefix) with an `L` where AWS
 * has an `A` (LKIA… for long-term keys, LSIA… for temporary ones), so that secret scanners and
 * people never take them for real AWS keys.
 */

const KEY_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The prefix of long-term access key ids (root and users); AWS's AKIA. */
export const LONG_TERM_KEY_PREFIX = 'LKIA';
/** The prefix of temporary access key ids (AssumeRole); AWS's ASIA. */
export const TEMPORARY_KEY_PREFIX = 'LSIA';

/** An access key pair. */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** `prefix` followed by random characters of AWS's id alphabet, `length` characters in all. */
export function randomId(prefix: string, length: number): string {
  let id = prefix;
  while (id.length < length) id += KEY_ID_CHARS[randomInt(KEY_ID_CHARS.length)];
  return id;
}

/** A new access key in AWS's shape: 20-character id, 40-character secret. */
export function newAccessKey(prefix = LONG_TERM_KEY_PREFIX): AccessKey {
  return {
    accessKeyId: randomId(prefix, 20),
    secretAccessKey: randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B'),
  };
}

/** A new session token: 96 random bytes, base64 (AWS's tokens are long opaque base64 strings too). */
export function newSessionToken(): string {
  return randomBytes(96).toString('base64');
}

/** SHA-256 (hex) of a session token: what the store keeps instead of the token. */
export function sessionTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function sealContext(accessKeyId: string) {
  return { secretArn: `lockstep:access-key:${accessKeyId}`, versionId: 'secret' };
}

/** Seals the secret part of an access key, bound to its id. */
export function sealKeySecret(keyring: Keyring, accessKeyId: string, secret: string): Buffer {
  return sealValue(keyring, { kind: 'string', text: secret }, sealContext(accessKeyId));
}

/** Opens the secret part of a stored access key. */
export function openKeySecret(keyring: Keyring, k: Pick<AccessKeyRecord, 'accessKeyId' | 'sealedSecret'>): string {
  const v = openValue(keyring, k.sealedSecret, sealContext(k.accessKeyId));
  if (v.kind !== 'string') throw new Error(`access key ${k.accessKeyId} holds no string secret`);
  return v.text;
}
