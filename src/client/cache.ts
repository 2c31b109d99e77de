import { DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { subscribeEvents, type EventSubscription, type LockstepEvent } from './events.js';

/*
 * An in-memory cache of secret values for applications. A get is served from memory; once an
 * entry is older than its TTL the next get still answers at once and starts a background check:
 * DescribeSecret tells which version carries the stage, and the value is fetched only if that
 * changed. Against Lockstep the cache also subscribes to the event stream and refreshes an entry as
 * soon as one of its labels moves, so a rotation reaches every cache within a second, not a TTL.
 * While the server cannot be reached the last good value keeps being served, with checks backing
 * off. One fetch per entry runs at a time, however many callers wait for it.
 */

/** A cached value with the fields GetSecretValue answers. */
export interface CachedSecret {
  ARN: string;
  Name: string;
  VersionId: string;
  VersionStages: string[];
  SecretString?: string;
  SecretBinary?: Uint8Array;
  CreatedDate?: Date;
}

/** Which version to read: a stage (default AWSCURRENT) or a version id. */
export interface SecretSelector {
  versionStage?: string;
  versionId?: string;
}

/** Options of a SecretCache. */
export interface SecretCacheOptions {
  /** The SDK client the cache reads through (Lockstep's endpoint, or AWS itself). */
  client: SecretsManagerClient;
  /** Age after which a get triggers a background version check (default 5 minutes; with push, a safety net). */
  ttlMs?: number;
  /** Entries kept; the least recently used goes first (default 1024). */
  maxEntries?: number;
  /** Subscribe to Lockstep's event stream: true, false, or 'auto' (when the client has an explicit endpoint; default). */
  push?: boolean | 'auto';
  /** First delay before retrying a failed check, doubled per failure up to retryMaxMs (defaults 1 s, 60 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Called when a background check or the event stream fails (the cache keeps serving). */
  onError?(error: unknown, secretId?: string): void;
}

interface Entry {
  key: string;
  secretId: string;
  stage?: string;
  versionId?: string;
  value: CachedSecret;
  json?: { versionId: string; parsed: unknown };
  dueAt: number;
  failures: number;
  used: number;
  refreshing?: Promise<void>;
}

/** Counters, for tests, metrics and benchmarks. */
export interface SecretCacheStats {
  hits: number;
  misses: number;
  fetches: number;
  versionChecks: number;
  errors: number;
  pushEvents: number;
}

/** A bounded, self-refreshing cache of secret values. */
export class SecretCache {
  readonly stats: SecretCacheStats = { hits: 0, misses: 0, fetches: 0, versionChecks: 0, errors: 0, pushEvents: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly byArn = new Map<string, Set<string>>();
  private readonly loading = new Map<string, Promise<Entry>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private clock = 0;
  private subscription: EventSubscription | undefined;
  private pushState: 'off' | 'starting' | 'open' | 'retrying' | 'unsupported' = 'off';
  private closed = false;
  private opened = 0;
  /** Date.now(), refreshed every 100 ms: TTLs need no finer clock, and a hit then reads no clock at all. */
  private coarseNow = Date.now();
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly opts: SecretCacheOptions) {
    this.ttlMs = opts.ttlMs ?? 300_000;
    this.maxEntries = Math.max(1, opts.maxEntries ?? 1024);
    this.retryBaseMs = opts.retryBaseMs ?? 1000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.ticker = setInterval(() => (this.coarseNow = Date.now()), 100);
    this.ticker.unref();
    const push = opts.push ?? 'auto';
    if (push === true || (push === 'auto' && opts.client.config.endpoint !== undefined)) void this.startPush();
  }

  /** The value (GetSecretValue's fields), from memory when cached. */
  getSecretValue(secretId: string, sel?: SecretSelector): Promise<CachedSecret> {
    const e = this.hit(secretId, sel);
    return e !== undefined ? Promise.resolve(e.value) : this.miss(secretId, sel ?? {});
  }

  /** The SecretString (throws for a binary secret). */
  getString(secretId: string, sel?: SecretSelector): Promise<string> {
    const e = this.hit(secretId, sel);
    if (e !== undefined && e.value.SecretString !== undefined) return Promise.resolve(e.value.SecretString);
    return this.getSecretValue(secretId, sel).then((v) => {
      if (v.SecretString === undefined) throw new TypeError(`secret ${secretId} holds binary data: use getBinary`);
      return v.SecretString;
    });
  }

  /** A cached entry, counted as a hit, with a background check started when it is due; undefined on a miss. */
  private hit(secretId: string, sel: SecretSelector | undefined): Entry | undefined {
    const e = this.entries.get(sel === undefined ? `${secretId}\u0000AWSCURRENT` : keyOf(secretId, sel));
    if (e === undefined) return undefined;
    this.stats.hits++;
    e.used = ++this.clock;
    // The precise clock is read only near the due time.
    if (e.refreshing === undefined && e.versionId === undefined && this.coarseNow + 150 >= e.dueAt && Date.now() >= e.dueAt) {
      this.refresh(e, true);
    }
    return e;
  }

  private async miss(secretId: string, sel: SecretSelector): Promise<CachedSecret> {
    this.stats.misses++;
    return (await this.load(keyOf(secretId, sel), secretId, sel)).value;
  }

  /** The SecretString parsed as JSON, parsed once per version (treat the result as read-only). */
  async getJson<T = Record<string, any>>(secretId: string, sel: SecretSelector = {}): Promise<T> {
    const v = await this.getSecretValue(secretId, sel);
    const e = this.entries.get(keyOf(secretId, sel));
    if (e?.json && e.json.versionId === v.VersionId) return e.json.parsed as T;
    if (v.SecretString === undefined) throw new TypeError(`secret ${secretId} holds binary data: use getBinary`);
    const parsed = JSON.parse(v.SecretString) as T;
    if (e && e.value === v) e.json = { versionId: v.VersionId, parsed };
    return parsed;
  }

  /** The SecretBinary (throws for a string secret). */
  async getBinary(secretId: string, sel?: SecretSelector): Promise<Uint8Array> {
    const v = await this.getSecretValue(secretId, sel);
    if (v.SecretBinary === undefined) throw new TypeError(`secret ${secretId} holds a string: use getString`);
    return v.SecretBinary;
  }

  /** Fetches the value now (whatever its age) and returns it. */
  async refreshNow(secretId: string, sel: SecretSelector = {}): Promise<CachedSecret> {
    const e = this.entries.get(keyOf(secretId, sel));
    if (!e) return this.getSecretValue(secretId, sel);
    if (e.refreshing) await e.refreshing;
    await this.refresh(e, false, true);
    return e.value;
  }

  /** Forgets one secret (every stage and version of it), or everything. */
  invalidate(secretId?: string): void {
    for (const [key, e] of this.entries) if (secretId === undefined || e.secretId === secretId || e.value.ARN === secretId) this.drop(key);
  }

  /** Entries cached now. */
  get size(): number {
    return this.entries.size;
  }

  /** The event stream subscription's state. */
  get push(): string {
    return this.pushState;
  }

  /** Stops the event stream subscription. */
  close(): void {
    this.closed = true;
    clearInterval(this.ticker);
    this.subscription?.close();
    this.pushState = 'off';
  }

  private load(key: string, secretId: string, sel: SecretSelector): Promise<Entry> {
    let p = this.loading.get(key);
    if (!p) {
      p = (async () => {
        const value = await this.fetch(secretId, sel);
        const e: Entry = {
          key, secretId, stage: sel.versionId ? sel.versionStage : (sel.versionStage ?? 'AWSCURRENT'), versionId: sel.versionId,
          value, dueAt: Date.now() + this.ttlMs, failures: 0, used: ++this.clock,
        };
        this.store(e);
        return e;
      })().finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  private async fetch(secretId: string, sel: SecretSelector): Promise<CachedSecret> {
    this.stats.fetches++;
    const out = await this.opts.client.send(
      new GetSecretValueCommand({
        SecretId: secretId,
        ...(sel.versionId ? { VersionId: sel.versionId } : {}),
        ...(sel.versionStage || !sel.versionId ? { VersionStage: sel.versionStage ?? 'AWSCURRENT' } : {}),
      }),
    );
    return {
      ARN: out.ARN!, Name: out.Name!, VersionId: out.VersionId!, VersionStages: out.VersionStages ?? [],
      ...(out.SecretString !== undefined ? { SecretString: out.SecretString } : {}),
      ...(out.SecretBinary !== undefined ? { SecretBinary: out.SecretBinary } : {}),
      ...(out.CreatedDate ? { CreatedDate: out.CreatedDate } : {}),
    };
  }

  /**
   * Brings an entry up to date. `check`: ask DescribeSecret which version has the stage first and
   * fetch only if it moved; otherwise fetch at once (a push said it moved, or refreshNow).
   */
  private refresh(e: Entry, check: boolean, rethrow = false): Promise<void> {
    let run: Promise<void> | undefined = undefined;
    run = (async () => {
      try {
        if (check) {
          this.stats.versionChecks++;
          const d = await this.opts.client.send(new DescribeSecretCommand({ SecretId: e.secretId }));
          const stages = d.VersionIdsToStages ?? {};
          const now = Object.keys(stages).find((v) => stages[v].includes(e.stage ?? 'AWSCURRENT'));
          if (now === e.value.VersionId) {
            e.failures = 0;
            e.dueAt = Date.now() + this.ttlMs;
            return;
          }
        }
        e.value = await this.fetch(e.secretId, { versionStage: e.stage, versionId: e.versionId });
        e.json = undefined;
        e.failures = 0;
        e.dueAt = Date.now() + this.ttlMs;
        this.index(e);
      } catch (err) {
        this.stats.errors++;
        const name = (err as { name?: string }).name;
        if (name === 'ResourceNotFoundException' && this.entries.get(e.key) === e) {
          this.drop(e.key); // the secret (or its stage) is gone: stop serving it
        } else {
          // Keep serving the last good value; look again later, later each time.
          e.failures++;
          const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (e.failures - 1));
          e.dueAt = Date.now() + delay * (0.5 + Math.random() * 0.5);
        }
        this.opts.onError?.(err, e.secretId);
        if (rethrow) throw err;
      } finally {
        if (e.refreshing === run) e.refreshing = undefined;
      }
    })();
    e.refreshing = run;
    return run;
  }

  private store(e: Entry): void {
    this.entries.set(e.key, e);
    this.index(e);
    if (this.entries.size > this.maxEntries) {
      let oldest: Entry | undefined;
      for (const x of this.entries.values()) if (!oldest || x.used < oldest.used) oldest = x;
      if (oldest) this.drop(oldest.key);
    }
  }

  private index(e: Entry): void {
    let keys = this.byArn.get(e.value.ARN);
    if (!keys) this.byArn.set(e.value.ARN, (keys = new Set()));
    keys.add(e.key);
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    const keys = this.byArn.get(e.value.ARN);
    keys?.delete(key);
    if (keys?.size === 0) this.byArn.delete(e.value.ARN);
  }

  private async startPush(): Promise<void> {
    this.pushState = 'starting';
    try {
      const cfg = this.opts.client.config;
      const ep = await cfg.endpoint!();
      const endpoint = `${ep.protocol}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path ?? ''}`;
      const region = await cfg.region();
      if (this.closed) return;
      this.subscription = subscribeEvents({
        endpoint,
        region,
        credentials: async () => {
          const c = await cfg.credentials();
          return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
        },
        types: ['SecretLabelUpdated'],
        onEvent: (ev) => this.onEvent(ev),
        onState: (state, detail) => {
          this.pushState = state;
          if (state === 'unsupported' || state === 'retrying') this.opts.onError?.(new Error(`event stream ${state}: ${detail ?? ''}`));
          if (state === 'open') this.refreshAll(); // anything missed while away
        },
      });
    } catch (e) {
      this.pushState = 'unsupported';
      this.opts.onError?.(e);
    }
  }

  private refreshAll(): void {
    // The first open needs nothing; after a reconnect the stream resumes, but values may have been
    // fetched while it was down: checking every entry once is cheap insurance.
    if (this.opened++ === 0) return;
    for (const e of this.entries.values()) if (!e.refreshing && e.versionId === undefined) this.refresh(e, true);
  }

  private onEvent(ev: LockstepEvent): void {
    if (ev.Type !== 'SecretLabelUpdated' || !ev.SecretArn) return;
    const keys = this.byArn.get(ev.SecretArn);
    if (!keys) return;
    this.stats.pushEvents++;
    const moved = new Set(Object.keys((ev.Detail?.labels as Record<string, unknown>) ?? {}));
    for (const key of keys) {
      const e = this.entries.get(key);
      if (!e || e.versionId !== undefined) continue; // a version id's value never changes
      if (moved.size > 0 && !moved.has(e.stage ?? 'AWSCURRENT')) continue;
      const start = () => void this.refresh(e, false).catch(() => undefined);
      if (e.refreshing) void e.refreshing.then(start);
      else start();
    }
  }
}

function keyOf(secretId: string, sel: SecretSelector): string {
  return sel.versionId ? `${secretId}\u0000#${sel.versionId}\u0000${sel.versionStage ?? ''}` : `${secretId}\u0000${sel.versionStage ?? 'AWSCURRENT'}`;
}
