import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretCache, type CachedSecret, type SecretSelector } from '../client/cache.js';
import { DEFAULT_SSRF_HEADERS, tokenChecker } from './token.js';
import {
  PLAIN, failureAnswer, isAnswer, isTransient, parsePathForm, parseQueryForm, secretBody, type HttpAnswer, type SecretQuery,
} from './protocol.js';

/*
 * `lockstep agent`: a local HTTP endpoint compatible with the AWS Secrets Manager Agent, so that
 * applications in any language read cached secrets with a plain GET. Requests are checked in AWS's
 * order (connection limit, then the SSRF token and no X-Forwarded-For, then the method) and answered
 * with AWS's statuses and bodies. Values come from a SecretCache: memory hits, one fetch per cold
 * secret, and, against Lockstep, push invalidation from the event stream, so a rotated value is
 * served within a second whatever the TTL; while the server is unreachable cached values keep
 * being served.
 */

/** Options of an agent. */
export interface AgentOptions {
  /** The SDK client the cache reads through. */
  client: SecretsManagerClient;
  /** The SSRF token requests must carry. */
  token: string;
  /** Headers that may carry it (default X-Aws-Parameters-Secrets-Token, X-Vault-Token). */
  ssrfHeaders?: readonly string[];
  /** Prefix of path-style requests (default /v1/). */
  pathPrefix?: string;
  port?: number;
  host?: string;
  /** Seconds a value is served before it is checked again (default 300); 0: every request reads from the server. */
  ttlSeconds?: number;
  /** Cached entries (default 1000). */
  cacheSize?: number;
  /** Open client connections allowed (default 800); /ping may use two more. */
  maxConnections?: number;
  /** Subscribe to the server's event stream (default 'auto': when the client has an explicit endpoint). */
  push?: boolean | 'auto';
  /** Background failures: version checks, the event stream (the agent keeps serving). */
  onBackgroundError?(error: unknown, secretId?: string): void;
  /** A read that failed and was answered with an error (for debug logging). */
  onRequestError?(error: unknown, secretId: string, status: number): void;
}

/** A running agent. */
export interface Agent {
  url: string;
  port: number;
  server: Server;
  cache: SecretCache;
  /** Open client connections now. */
  readonly connections: number;
  /** Stops listening, finishes in-flight requests (closing the rest after `graceMs`) and ends the subscription. */
  close(graceMs?: number): Promise<void>;
}

/** An SDK client for the agent: the default credential chain (or a profile), bounded timeouts. */
export function createAgentClient(o: { endpoint: string; region: string; profile?: string }): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: o.endpoint,
    region: o.region,
    ...(o.profile ? { profile: o.profile } : {}),
    customUserAgent: 'lockstep-agent',
    // AWS's agent gives up on a request after 61 s; a dead server must not hold requests longer.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}

/** Starts an agent listening on `host:port` (default 127.0.0.1:2773). */
export async function startAgent(o: AgentOptions): Promise<Agent> {
  const prefix = o.pathPrefix ?? '/v1/';
  const maxConn = o.maxConnections ?? 800;
  const ttlSeconds = o.ttlSeconds ?? 300;
  const readThrough = ttlSeconds === 0;
  const checkToken = tokenChecker(o.token, o.ssrfHeaders ?? DEFAULT_SSRF_HEADERS);
  const cache = new SecretCache({
    client: o.client,
    ttlMs: ttlSeconds * 1000,
    maxEntries: o.cacheSize ?? 1000,
    push: o.push ?? 'auto',
    onError: (e, id) => o.onBackgroundError?.(e, id),
  });
  // The serialized body of each cached value, made once per value (a refresh makes a new object).
  const bodies = new WeakMap<CachedSecret, string>();
  let open = 0;

  const send = (res: ServerResponse, a: HttpAnswer) => {
    res.writeHead(a.status, { 'content-length': Buffer.byteLength(a.body) });
    res.end(a.body);
  };

  async function read(q: SecretQuery): Promise<CachedSecret> {
    const sel: SecretSelector = {};
    if (q.versionId !== undefined) sel.versionId = q.versionId;
    if (q.versionStage !== undefined) sel.versionStage = q.versionStage;
    if (q.refreshNow) return cache.refreshNow(q.secretId, sel); // an error is answered, the cache is unchanged
    if (!readThrough) return cache.getSecretValue(q.secretId, sel);
    // TTL 0: every request goes to the server, but, as AWS's agent does, a transient failure is
    // answered with the value cached before, when there is one.
    try {
      return await cache.refreshNow(q.secretId, sel);
    } catch (e) {
      if (!isTransient(e)) throw e;
      try {
        return await cache.getSecretValue(q.secretId, sel);
      } catch {
        throw e;
      }
    }
  }

  async function serveSecret(q: SecretQuery, res: ServerResponse): Promise<void> {
    let value: CachedSecret;
    try {
      value = await read(q);
    } catch (e) {
      const a = failureAnswer(e);
      o.onRequestError?.(e, q.secretId, a.status);
      send(res, a);
      return;
    }
    let body = bodies.get(value);
    if (body === undefined) bodies.set(value, (body = secretBody(value)));
    send(res, { status: 200, body });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    let target = req.url ?? '/';
    if (!target.startsWith('/')) {
      // absolute-form (a proxy-style request line): only the path and query count
      try {
        const u = new URL(target);
        target = u.pathname + u.search;
      } catch {
        target = '/';
      }
    }
    const qi = target.indexOf('?');
    const path = qi < 0 ? target : target.slice(0, qi);
    const query = qi < 0 ? '' : target.slice(qi + 1);
    // /ping and /start_serving (Lambda mode, which this agent has not) skip the token and may use
    // two connections over the limit, as on AWS.
    const health = path === '/ping' || path === '/start_serving';
    if (open > maxConn + (health ? 2 : 0)) return send(res, PLAIN.tooMany);
    if (!health) {
      if (req.headers['x-forwarded-for'] !== undefined) return send(res, PLAIN.forwarded);
      if (!checkToken(req.headersDistinct)) return send(res, PLAIN.badToken);
    }
    if (req.method !== 'GET') return send(res, PLAIN.notAllowed);
    if (path === '/ping') return send(res, { status: 200, body: PLAIN.healthy });
    let q: SecretQuery | HttpAnswer;
    if (path === '/secretsmanager/get') q = parseQueryForm(query);
    else if (path.startsWith(prefix)) q = parsePathForm(path, query, prefix);
    else return send(res, PLAIN.notFound);
    if (isAnswer(q)) return send(res, q);
    void serveSecret(q, res);
  }

  const server = createServer({ requestTimeout: 61_000, headersTimeout: 30_000 }, handle);
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 2773, o.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    cache.close();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    server,
    cache,
    get connections() {
      return open;
    },
    close(graceMs = 5_000) {
      closing ??= new Promise<void>((resolve) => {
        cache.close();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          o.client.destroy();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
