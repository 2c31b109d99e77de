import type { SecretRecord, Store, VersionRecord } from '../storage/types.js';

/** What GetSecretValue read for one (SecretId, VersionId, VersionStage): sealed, never plaintext. */
export interface CachedRead {
  secret: SecretRecord;
  version: VersionRecord;
}

/**
 * A cache of GetSecretValue look-ups, valid for as long as the store's generation does not change
 * (any committed write empties it in effect). It holds only what storage holds: ciphertext and
 * metadata. Bounded: the oldest entries go first.
 */
export class ReadCache {
  private readonly entries = new Map<string, { gen: number; read: CachedRead }>();

  constructor(
    private readonly store: Store,
    private readonly max = 10_000,
  ) {}

  /** The key of one look-up. */
  static key(secretId: string, versionId: string | undefined, stage: string | undefined): string {
    return `${secretId}\u0000${versionId ?? ''}\u0000${stage ?? ''}`;
  }

  /** The cached read, if it is still current. */
  get(key: string): CachedRead | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.gen !== this.store.generation) {
      this.entries.delete(key);
      return undefined;
    }
    return e.read;
  }

  /** Remembers a read made at generation `gen`. */
  set(key: string, gen: number, read: CachedRead): void {
    if (gen !== gen || gen !== this.store.generation) return; // NaN, or already stale
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { gen, read });
  }
}
