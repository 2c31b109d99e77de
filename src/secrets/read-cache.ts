import type { SecretAggregate, SecretRecord, Store, VersionRecord } from '../storage/types.js';

/**
 * Look-ups valid for as long as the store's data generation does not change (a committed write of
 * data empties such a cache in effect; audit appends do not). It holds only what storage holds:
 * ciphertext and metadata. Bounded: the oldest entries go first.
 */
export class GenerationCache<V> {
  private readonly entries = new Map<string, { gen: number; value: V }>();

  constructor(
    private readonly store: Store,
    private readonly max = 10_000,
  ) {}

  /** The cached value, if it is still current. */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.gen !== this.store.generation) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Remembers a value read at generation `gen`. */
  set(key: string, gen: number, value: V): void {
    if (gen !== gen || gen !== this.store.generation) return; // NaN, or already stale
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { gen, value });
  }
}

/** What GetSecretValue read for one (SecretId, VersionId, VersionStage): sealed, never plaintext. */
export interface CachedRead {
  secret: SecretRecord;
  version: VersionRecord;
}

/** GetSecretValue's look-ups. */
export class ReadCache extends GenerationCache<CachedRead> {
  /** The key of one look-up. */
  static key(secretId: string, versionId: string | undefined, stage: string | undefined): string {
    return `${secretId}\u0000${versionId ?? ''}\u0000${stage ?? ''}`;
  }
}

/** What an authorization decision reads about the secret a call names (nothing when there is none). */
export interface SecretFacts {
  secret?: SecretRecord;
  aggregate?: SecretAggregate;
}
