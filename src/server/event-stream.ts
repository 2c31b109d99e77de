import type { ServerResponse } from 'node:http';
import type { EventRecord, SecretRecord, Store, Tx } from '../storage/types.js';
import { eventsView } from '../rotation/history.js';

/*
 * The event stream: `GET /lockstep/events` answers with server-sent events, one per entry of the
 * event log (SecretLabelUpdated, RotationStarted, RotationSucceeded, RotationFailed, ...), as they
 * are appended. One poller per server process reads the log (shared by every worker of the data
 * directory, so events written by any worker reach every subscriber) and fans out to the open
 * streams. A client resumes after a disconnect with `Last-Event-ID` (or `?after=`) and misses nothing.
 */

/** The event a label change appends: which labels moved from which version to which. */
export const LABEL_UPDATED = 'SecretLabelUpdated';

/** Appends a SecretLabelUpdated event when any label of the secret moved (never a value). */
export async function recordLabelChange(
  tx: Tx, nowMs: number, s: SecretRecord, before: Map<string, string>, after: Map<string, string>,
): Promise<void> {
  const labels: Record<string, { from?: string; to?: string }> = {};
  for (const label of new Set([...before.keys(), ...after.keys()])) {
    const from = before.get(label);
    const to = after.get(label);
    if (from !== to) labels[label] = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  }
  if (Object.keys(labels).length === 0) return;
  await tx.events.append({ timeMs: nowMs, type: LABEL_UPDATED, secretArn: s.arn, detail: JSON.stringify({ name: s.name, labels }) });
}

interface Subscriber {
  res: ServerResponse;
  /** Whether the credentials the stream was opened with still work (a revoked key ends the stream). */
  valid?: () => Promise<boolean>;
  cursor: number; // the last event id sent
  replaying: boolean;
  secretArn?: string;
  types?: Set<string>;
}

/** What a subscriber asked for. */
export interface StreamFilter {
  after?: number;
  secretArn?: string;
  types?: string[];
}

const PAGE = 500;

/** Fans the event log out to server-sent-event streams. */
export class EventFeed {
  private readonly subs = new Set<Subscriber>();
  private head: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private revalidate: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly store: Store,
    private readonly pollMs = 100,
    private readonly heartbeatMs = 15_000,
    private readonly revalidateMs = 1_000,
  ) {}

  /** Open streams. */
  get size(): number {
    return this.subs.size;
  }

  /** Starts streaming to `res` (headers are written here); resolves once the stream is live. */
  async open(res: ServerResponse, filter: StreamFilter, requestId: string, valid?: () => Promise<boolean>): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-amzn-requestid': requestId,
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    this.head ??= await this.store.read((tx) => tx.events.lastId());
    const sub: Subscriber = {
      res,
      valid,
      cursor: filter.after ?? this.head,
      replaying: filter.after !== undefined && filter.after < this.head,
      secretArn: filter.secretArn,
      types: filter.types?.length ? new Set(filter.types) : undefined,
    };
    // The stream's position, so that a client that reconnects before any event resumes from here.
    res.write(`id: ${sub.cursor}\n\n`);
    this.subs.add(sub);
    res.on('close', () => this.subs.delete(sub));
    this.ensureRunning();
    if (sub.replaying) {
      // Catch up from the log itself, then join the live fan-out (which skips this stream meanwhile).
      for (;;) {
        const page = await this.store.read((tx) => tx.events.list({ afterId: sub.cursor, limit: PAGE }));
        this.send(sub, page);
        if (page.length < PAGE) break;
      }
      sub.replaying = false;
    }
  }

  /** Ends every stream and stops polling. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.revalidate) clearInterval(this.revalidate);
    this.timer = this.heartbeat = this.revalidate = undefined;
    for (const s of this.subs) s.res.end();
    this.subs.clear();
  }

  private ensureRunning(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
    this.heartbeat = setInterval(() => {
      for (const s of this.subs) s.res.write(': keep-alive\n\n');
    }, this.heartbeatMs);
    this.heartbeat.unref();
    this.revalidate = setInterval(() => void this.checkCredentials(), this.revalidateMs);
    this.revalidate.unref();
  }

  /** Ends the streams whose credentials were deactivated, deleted or expired since they opened. */
  private async checkCredentials(): Promise<void> {
    for (const s of [...this.subs]) {
      if (!s.valid) continue;
      const ok = await s.valid().catch(() => true); // a failed read is no revocation
      if (!ok) {
        this.subs.delete(s);
        s.res.end();
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    if (this.subs.size === 0) {
      // Nobody listens: stop, and start again from the log's end at the next subscription.
      if (this.timer) clearInterval(this.timer);
      if (this.heartbeat) clearInterval(this.heartbeat);
      if (this.revalidate) clearInterval(this.revalidate);
      this.timer = this.heartbeat = this.revalidate = undefined;
      this.head = undefined;
      return;
    }
    this.polling = true;
    try {
      for (;;) {
        const head = this.head ?? 0;
        const page = await this.store.read((tx) => tx.events.list({ afterId: head, limit: PAGE }));
        if (page.length === 0) break;
        this.head = page[page.length - 1].id;
        for (const s of this.subs) if (!s.replaying) this.send(s, page);
        if (page.length < PAGE) break;
      }
    } catch {
      // A failed read is retried at the next tick.
    } finally {
      this.polling = false;
    }
  }

  private send(s: Subscriber, events: EventRecord[]): void {
    let out = '';
    for (const e of events) {
      if (e.id <= s.cursor) continue;
      s.cursor = e.id;
      if (s.secretArn !== undefined && e.secretArn !== s.secretArn) continue;
      if (s.types && !s.types.has(e.type)) continue;
      out += `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(eventsView([e])[0])}\n\n`;
    }
    if (out) s.res.write(out);
  }
}
