import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { signGet, type AwsCredentials } from './sign.js';

/** One entry of Lockstep's event log, as the event stream sends it. */
export interface LockstepEvent {
  EventId: number;
  Date: number;
  Type: string;
  SecretArn?: string;
  Detail: Record<string, any>;
}

/** Where and how to subscribe. */
export interface EventSubscriptionOptions {
  /** The Lockstep endpoint, e.g. http://127.0.0.1:8400. */
  endpoint: string;
  region: string;
  /** Resolved before every (re)connection, so rotated or temporary credentials are picked up. */
  credentials: () => Promise<AwsCredentials>;
  /** Only events of this secret (name or ARN). */
  secretId?: string;
  /** Only these event types (e.g. ['SecretLabelUpdated']). */
  types?: string[];
  onEvent(e: LockstepEvent): void;
  /** Connection state: 'open' (also after a reconnect: events may have been missed only if the log was cut), 'retrying', 'unsupported'. */
  onState?(state: 'open' | 'retrying' | 'unsupported', detail?: string): void;
  /** First reconnection delay (doubles up to maxRetryMs). */
  retryMs?: number;
  maxRetryMs?: number;
}

/** An open subscription; `close()` ends it. */
export interface EventSubscription {
  close(): void;
  /** The id of the last event received (a reconnection resumes after it). */
  readonly lastEventId: number | undefined;
}

/**
 * Subscribes to Lockstep's event stream (`GET /lockstep/events`, server-sent events, signed with
 * SigV4), reconnecting with backoff and resuming after the last event received. Against a server
 * that has no event stream (AWS itself) it reports 'unsupported' once and stops.
 */
export function subscribeEvents(opts: EventSubscriptionOptions): EventSubscription {
  const base = opts.retryMs ?? 500;
  const max = opts.maxRetryMs ?? 30_000;
  let delay = base;
  let closed = false;
  let lastId: number | undefined;
  let req: ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;

  const retry = (why: string) => {
    if (closed) return;
    opts.onState?.('retrying', why);
    timer = setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
    timer.unref();
    delay = Math.min(max, delay * 2);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    let creds: AwsCredentials;
    try {
      creds = await opts.credentials();
    } catch (e) {
      return retry(`credentials: ${(e as Error).message}`);
    }
    const url = new URL('/lockstep/events', opts.endpoint.endsWith('/') ? opts.endpoint : `${opts.endpoint}/`);
    if (opts.secretId) url.searchParams.set('secretId', opts.secretId);
    if (opts.types?.length) url.searchParams.set('types', opts.types.join(','));
    if (lastId !== undefined) url.searchParams.set('after', String(lastId));
    const headers = signGet(url, creds, opts.region, 'secretsmanager', Date.now(), { accept: 'text/event-stream' });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    req = send(url, { method: 'GET', headers });
    req.on('error', (e) => retry(e.message));
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d.slice(0, 1000)));
        res.on('end', () => {
          // A server without the stream answers as AWS does for an unknown request.
          if (res.statusCode === 404 || /UnknownOperation|MissingAuthenticationToken/.test(body)) {
            closed = true;
            opts.onState?.('unsupported', `${res.statusCode} ${body.slice(0, 200)}`);
          } else retry(`HTTP ${res.statusCode} ${body.slice(0, 200)}`);
        });
        return;
      }
      delay = base;
      opts.onState?.('open');
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          dispatch(block);
        }
      });
      res.on('end', () => retry('the stream ended'));
      res.on('error', (e) => retry(e.message));
    });
    req.end();
  }

  function dispatch(block: string): void {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (id !== undefined && /^\d+$/.test(id)) lastId = Number(id);
    if (data.length === 0) return;
    try {
      opts.onEvent(JSON.parse(data.join('\n')) as LockstepEvent);
    } catch {
      // A malformed or throwing handler must not end the subscription.
    }
  }

  void connect();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      req?.destroy();
    },
    get lastEventId() {
      return lastId;
    },
  };
}
