/*
 * A small time-bounded cache with single-flight loading, for the access keys (and the identity
 * policies) the authenticator resolves from the store. An entry is trusted for `ttlMs` after it was
 * loaded; after that the next request reloads it. Several processes share one data directory and
 * only the process that changed a key can invalidate its own cache at once, so the lifetime bounds
 * how long another process goes on accepting a key that was deactivated or deleted.
 */

/** Options of a cache: lifetime, size bound and the (monotonic) clock it measures age with. */
export interface TtlCacheOptions {
  /** How long an entry is trusted, in ms (default 1000). */
  ttlMs?: number;
  /** Entries kept at most; the oldest loaded go first (default 10,000). */
  maxEntries?: number;
  /** Milliseconds from a monotonic clock (default performance.now). */
  clock?: () => number;
}

interface Entry<V> {
  loadedAt: number;
  value: V | undefined;
  /** The order in which loads started: a later load's entry is never replaced by an earlier one's. */
  seq: number;
}

/** A cache of `K → V | undefined` (undefined: known to be absent), each entry trusted for a short time. */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<void>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;
  /** Bumped by every invalidation: a load that started before one must not be stored. */
  private epoch = 0;
  private loads = 0;

  /** `load` reads one entry from the source; it gets the previous value to reuse what has not changed. */
  constructor(
    private readonly load: (key: K, previous: V | undefined) => Promise<V | undefined>,
    opts: TtlCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 1000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** The cached value, fresh or not (undefined when absent or never loaded). */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** True when the key has an entry younger than the lifetime. */
  isFresh(key: K): boolean {
    const e = this.entries.get(key);
    return e !== undefined && this.clock() - e.loadedAt < this.ttlMs;
  }

  /** Loads the key unless its entry is fresh; undefined (no promise, no await) when it is. */
  ensure(key: K): Promise<void> | undefined {
    if (this.isFresh(key)) return undefined;
    let p = this.loading.get(key);
    if (p === undefined) {
      const loading: Promise<void> = this.reload(key).finally(() => {
        if (this.loading.get(key) === loading) this.loading.delete(key);
      });
      this.loading.set(key, loading);
      p = loading;
    }
    return p;
  }

  /** The value, loaded when its entry is not fresh. */
  async get(key: K): Promise<V | undefined> {
    const p = this.ensure(key);
    if (p !== undefined) await p;
    return this.peek(key);
  }

  /** Drops one entry at once. */
  invalidate(key: K): void {
    this.epoch++;
    this.entries.delete(key);
    this.loading.delete(key); // a load already under way may have read the old state
  }

  /** Drops every entry whose value matches. */
  invalidateWhere(match: (value: V, key: K) => boolean): void {
    this.epoch++;
    for (const [k, e] of this.entries) if (e.value !== undefined && match(e.value, k)) this.entries.delete(k);
    this.loading.clear();
  }

  /** Drops everything. */
  clear(): void {
    this.epoch++;
    this.entries.clear();
    this.loading.clear();
  }

  private async reload(key: K): Promise<void> {
    const epoch = this.epoch;
    const seq = ++this.loads;
    const startedAt = this.clock();
    const value = await this.load(key, this.entries.get(key)?.value);
    const current = this.entries.get(key);
    if (current !== undefined && current.seq > seq) return; // a later load got there first
    // An invalidation while loading may concern what was just read: the value serves the requests
    // that were waiting for it (they raced with the change), and is stale for every later one.
    const loadedAt = epoch === this.epoch ? startedAt : Number.NEGATIVE_INFINITY;
    this.entries.delete(key); // re-inserted last: the map's order is the order of loading
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, { loadedAt, value, seq });
  }
}
