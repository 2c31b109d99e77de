import type { KmsKeyRecord, Store, Tx } from '../storage/types.js';
import type { Keyring } from './kek.js';
import { namedKeyring, openNamedKey } from './named-keys.js';

/** What a process knows of one named key: its state, and the keyring of its opened material. */
export interface NamedKeyState {
  keyId: string;
  enabled: boolean;
  /** Seals and opens values under this key. */
  ring: Keyring;
  /** The store generation this state was read at. */
  gen: number;
  /** The sealed material it was opened from: a reload that finds the same bytes need not open it again. */
  sealedMaterial: Buffer;
}

/**
 * The named keys this process has met, with their material opened (under the master keys). A state
 * is current while the store's generation stays what it was read at: the read path loads it in the
 * same read that fetched the version, and checks the generation on a cached read, so `lockstep keys
 * disable` (another process) takes effect on the next read. Other callers take the state as last
 * loaded; `primeAll` loads every key at start-up so that they find one.
 */
export class NamedKeyCache {
  private readonly states = new Map<string, NamedKeyState>();

  constructor(
    private readonly store: Store,
    private readonly master: Keyring,
  ) {}

  /** The state as last loaded (any generation); undefined for a key never loaded or that does not exist. */
  get(keyId: string): NamedKeyState | undefined {
    return this.states.get(keyId);
  }

  /** Loads a key inside the caller's transaction or read; `gen` is the generation taken before its first read. */
  async load(tx: Tx, keyId: string, gen = this.store.generation): Promise<NamedKeyState | undefined> {
    const rec = await tx.keys.key(keyId);
    if (!rec) {
      this.states.delete(keyId);
      return undefined;
    }
    return this.adopt(rec, gen);
  }

  /** The state of a key, read again when the store changed since it was loaded. */
  async fresh(keyId: string): Promise<NamedKeyState | undefined> {
    const s = this.states.get(keyId);
    if (s && s.gen === this.store.generation) return s;
    return this.store.read((tx) => this.load(tx, keyId, this.store.generation));
  }

  /** Loads every named key (start-up), so that callers without a transaction at hand find them. */
  async primeAll(): Promise<void> {
    await this.store.read(async (tx) => {
      const gen = this.store.generation;
      for (const rec of await tx.keys.keys()) this.adopt(rec, gen);
    });
  }

  private adopt(rec: KmsKeyRecord, gen: number): NamedKeyState {
    const known = this.states.get(rec.keyId);
    const ring = known && known.sealedMaterial.equals(rec.sealedMaterial) ? known.ring : namedKeyring(openNamedKey(this.master, rec));
    const state = { keyId: rec.keyId, enabled: rec.enabled, ring, gen, sealedMaterial: rec.sealedMaterial };
    this.states.set(rec.keyId, state);
    return state;
  }
}
