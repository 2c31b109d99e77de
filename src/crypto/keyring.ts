import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileKeyring } from './file-keyring.js';
import { createMasterKeyFile, decodeMasterKeys, MASTER_KEY_FILE } from './master-key-file.js';
import { kekIdOf, type Kek, type Keyring } from './kek.js';

export { decodeMasterKey } from './master-key-file.js';
export { kekIdOf, singleKeyring, type Kek, type Keyring } from './kek.js';

/**
 * The keyrings `loadMasterKey` made, by the key object it returned: `keyringOf([loaded.key])` gives
 * back the full (reloadable) keyring of the data directory rather than a ring of that one key.
 */
const loaded = new WeakMap<Buffer, Keyring>();

/**
 * Builds a keyring from raw 32-byte keys; the first is the active one. Given exactly the key that
 * `loadMasterKey` returned, it returns that load's keyring: the data directory's master keys with
 * their retired keys, re-read from master.key when it changes.
 */
export function keyringOf(keys: Buffer[]): Keyring {
  if (keys.length === 1 && loaded.has(keys[0])) return loaded.get(keys[0])!;
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

/** Where the master keys came from, and the keyring over them. */
export interface LoadedMasterKey {
  /** The active master key. */
  key: Buffer;
  /** `LOCKSTEP_MASTER_KEY`, or the path of master.key. */
  source: string;
  /** True when the keys come from the environment (Lockstep cannot change them). */
  fromEnv: boolean;
  /** Every master key: the active one seals, retired ones still open. Reloads master.key as it changes. */
  keyring: Keyring;
}

/**
 * Loads the master keys: from LOCKSTEP_MASTER_KEY when set (one base64 key, or several separated by
 * commas with the active key first), else from <dataDir>/master.key, which is created (mode 0600)
 * with a fresh random key on first start and may hold retired keys after a rotation.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): LoadedMasterKey {
  const fromEnv = env.LOCKSTEP_MASTER_KEY;
  let out: LoadedMasterKey;
  if (fromEnv !== undefined && fromEnv !== '') {
    const keys = decodeMasterKeys(fromEnv, 'LOCKSTEP_MASTER_KEY');
    out = { key: keys[0], source: 'LOCKSTEP_MASTER_KEY', fromEnv: true, keyring: keyringOf(keys) };
  } else {
    const file = join(dataDir, MASTER_KEY_FILE);
    if (!existsSync(file)) createMasterKeyFile(file);
    chmodSync(file, 0o600);
    const keyring = new FileKeyring(file);
    out = { key: Buffer.from(keyring.active.key), source: file, fromEnv: false, keyring };
  }
  loaded.set(out.key, out.keyring);
  return out;
}

