import { createHash } from 'node:crypto';

/** A key-encryption key: 32 bytes and the short id that names it in every envelope. */
export interface Kek {
  id: string;
  key: Buffer;
}

/** The key-encryption keys the server holds: one active key for sealing, any of them for opening. */
export interface Keyring {
  readonly active: Kek;
  get(id: string): Kek | undefined;
}

/** Derives the stable public id of a key-encryption key (never reveals the key). */
export function kekIdOf(key: Buffer): string {
  return 'local-' + createHash('sha256').update('lockstep-kek-id\0').update(key).digest('hex').slice(0, 16);
}

/** A keyring of exactly one key, which seals and opens. */
export function singleKeyring(kek: Kek): Keyring {
  return { active: kek, get: (id) => (id === kek.id ? kek : undefined) };
}
