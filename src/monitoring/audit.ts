import { createHash } from 'node:crypto';
import type { AuditRow, Store, Tx } from '../storage/types.js';

/*
 * The audit trail: one record per API call and per rotation event, append-only, each record
 * chained to the one before it by a SHA-256 hash, so an edited, deleted or reordered record breaks
 * the chain (`lockstep audit verify`). Records name who did what to which resource, how it ended
 * and why the policy decision went the way it did; they never hold a secret value.
 *
 * API calls are written in batches (group commit): a request's record joins the next batch, and the
 * request answers only once its batch has committed. If it cannot be written, the request fails.
 */

/** What one record says. Every field is metadata; none is a secret value. */
export interface AuditRecord {
  time: string; // ISO 8601
  kind: 'api' | 'rotation';
  requestId?: string;
  principal?: string; // ARN, or 'root'
  accessKeyId?: string;
  action: string; // e.g. secretsmanager:GetSecretValue, iam:CreateUser, rotation:RotationSucceeded
  resource?: string;
  outcome: 'success' | 'error' | 'denied';
  errorCode?: string;
  decision?: { effect: 'allow' | 'explicit-deny' | 'implicit-deny' | 'root'; reason: string };
  sourceIp?: string;
  detail?: Record<string, unknown>;
}

/** Who made a call, as an audit record names it. */
export interface CallerOf {
  principal: { kind: string; principalArn: string; accessKeyId: string };
  sourceIp?: string;
}

/** The record of one API call; optional parts are left out when absent. */
export function callRecord(
  nowMs: number, requestId: string, caller: CallerOf, action: string, outcome: AuditRecord['outcome'],
  extra: { resource?: string; errorCode?: string; decision?: AuditRecord['decision']; detail?: Record<string, unknown> } = {},
): AuditRecord {
  const { principal, sourceIp } = caller;
  return {
    time: new Date(nowMs).toISOString(), kind: 'api', requestId,
    principal: principal.kind === 'root' ? 'root' : principal.principalArn, accessKeyId: principal.accessKeyId,
    action, ...(extra.resource !== undefined ? { resource: extra.resource } : {}), outcome,
    ...(extra.errorCode !== undefined ? { errorCode: extra.errorCode } : {}), ...(extra.decision ? { decision: extra.decision } : {}),
    ...(sourceIp ? { sourceIp } : {}), ...(extra.detail ? { detail: extra.detail } : {}),
  };
}

/** The hash that starts the chain. */
export const GENESIS = '0'.repeat(64);

/** The hash of a record given the previous record's hash. */
export function chainHash(prevHash: string, record: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(record).digest('hex');
}

/** Appends records inside the caller's transaction, continuing the chain. */
export async function appendAudit(tx: Tx, records: AuditRecord[], nowMs: number): Promise<number[]> {
  let prev = (await tx.audit.last())?.hash ?? GENESIS;
  const seqs: number[] = [];
  for (const r of records) {
    const text = JSON.stringify(r);
    const hash = chainHash(prev, text);
    seqs.push(await tx.audit.append({ timeMs: nowMs, record: text, prevHash: prev, hash }));
    prev = hash;
  }
  return seqs;
}

/** Where verification found the chain broken. */
export interface AuditBreak {
  seq: number;
  problem: string;
}

/** The outcome of checking the whole chain. */
export interface AuditVerification {
  records: number;
  ok: boolean;
  breaks: AuditBreak[];
  head?: { seq: number; hash: string };
}

/** Checks every record: its hash, its link to the previous one, and that no sequence number is missing. */
export async function verifyAudit(store: Store, pageSize = 5000): Promise<AuditVerification> {
  const breaks: AuditBreak[] = [];
  let prev: AuditRow | undefined;
  let count = 0;
  let after = 0;
  for (;;) {
    const page = await store.read((tx) => tx.audit.list(after, pageSize));
    for (const row of page) {
      count++;
      const expectedPrev = prev ? prev.hash : GENESIS;
      if (prev && row.seq !== prev.seq + 1) breaks.push({ seq: row.seq, problem: `records ${prev.seq + 1}..${row.seq - 1} are missing` });
      else if (!prev && row.seq !== 1) breaks.push({ seq: row.seq, problem: `records 1..${row.seq - 1} are missing` });
      if (row.prevHash !== expectedPrev) breaks.push({ seq: row.seq, problem: 'does not link to the record before it' });
      if (chainHash(row.prevHash, row.record) !== row.hash) breaks.push({ seq: row.seq, problem: 'its content does not match its hash (edited)' });
      prev = row;
    }
    if (page.length < pageSize) break;
    after = page[page.length - 1].seq;
  }
  return { records: count, ok: breaks.length === 0, breaks, ...(prev ? { head: { seq: prev.seq, hash: prev.hash } } : {}) };
}

/** Filters of `audit query` / `audit tail`. */
export interface AuditFilter {
  sinceMs?: number;
  untilMs?: number;
  principal?: string;
  action?: string; // exact, or a prefix ending in '*'
  resource?: string; // substring
  outcome?: string;
}

/** True when a record passes the filter. */
export function matchesAudit(row: AuditRow, r: AuditRecord, f: AuditFilter): boolean {
  if (f.sinceMs !== undefined && row.timeMs < f.sinceMs) return false;
  if (f.untilMs !== undefined && row.timeMs > f.untilMs) return false;
  if (f.principal !== undefined && r.principal !== f.principal) return false;
  if (f.action !== undefined) {
    const a = f.action.toLowerCase();
    const act = r.action.toLowerCase();
    if (a.endsWith('*') ? !act.startsWith(a.slice(0, -1)) : act !== a) return false;
  }
  if (f.resource !== undefined && !(r.resource ?? '').includes(f.resource)) return false;
  if (f.outcome !== undefined && r.outcome !== f.outcome) return false;
  return true;
}

/**
 * Batches API-call records into group commits; `record` resolves once the record is written. A batch
 * is written at the end of the event-loop turn (setImmediate), or at once when `eagerBatch` records
 * are waiting: a request then waits for a few others' records, not for a whole turn's worth of
 * requests to be parsed and answered first, which bounds the latency the trail adds under load.
 */
export class AuditWriter {
  private queue: { r: AuditRecord; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly maxBatch = 256,
    private readonly eagerBatch = 8,
  ) {}

  /** Queues a record; resolves when written, rejects when it could not be. */
  record(r: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ r, resolve, reject });
      if (this.flushing) return; // the running flush takes it
      if (this.queue.length >= this.eagerBatch) this.start();
      else this.scheduled ??= setImmediate(() => this.start());
    });
  }

  /** Resolves once every queued record has been written (or failed). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.scheduled && !this.flushing) this.start();
      if (!this.flushing) return;
      await this.flushing;
    }
  }

  private start(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (!this.flushing && this.queue.length > 0) this.flushing = this.flush();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.store.transaction((tx) => appendAudit(tx, batch.map((b) => b.r), this.now()));
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.flushing = undefined;
  }
}
