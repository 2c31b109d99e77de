import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A key-encryption key: 32 bytes and the short id that names it in every envelope. */
export interface Kek {
  id: string;
  key: Buffer;
}

/** The key-encryption keys the server holds: one active key for sealing, any of them for opening. */
export interface Keyring {
  active: Kek;
  get(id: string): Kek | undefined;
}

/** Derives the stable public id of a key-encryption key (never reveals the key). */
export function kekIdOf(key: Buffer): string {
  return 'local-' + createHash('sha256').update('lockstep-kek-id\0').update(key).digest('hex').slice(0, 16);
}

/** Builds a keyring from raw 32-byte keys; the first is the active one. */
export function keyringOf(keys: Buffer[]): Keyring {
  if (keys.length === 0) throw new Error('a keyring needs at least one key');
  const byId = new Map<string, Kek>();
  const keks = keys.map((key) => {
    if (key.length !== 32) throw new Error('a key-encryption key must be 32 bytes');
    const kek = { id: kekIdOf(key), key: Buffer.from(key) };
    byId.set(kek.id, kek);
    return kek;
  });
  return { active: keks[0], get: (id) => byId.get(id) };
}

/** Decodes a base64 master key, insisting on exactly 32 bytes. */
export function decodeMasterKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new Error(`${origin} must hold the base64 encoding of exactly 32 bytes`);
  }
  return key;
}

/**
 * Loads the master key: from LOCKSTEP_MASTER_KEY when set, else from <dataDir>/master.key,
 * which is created (mode 0600) with a fresh random key on first start.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): { key: Buffer; source: string } {
  const fromEnv = env.LOCKSTEP_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    return { key: decodeMasterKey(fromEnv, 'LOCKSTEP_MASTER_KEY'), source: 'LOCKSTEP_MASTER_KEY' };
  }
  const file = join(dataDir, 'master.key');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return { key: decodeMasterKey(readFileSync(file, 'utf8'), file), source: file };
}
