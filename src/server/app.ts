import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ServiceError, Errors, isServiceError } from '../errors.js';
import { loadMasterKey, type Keyring } from '../crypto/keyring.js';
import { loadCredentials, type Credentials } from '../auth/credentials.js';
import { createAuthenticator, type Authenticator } from '../auth/authenticator.js';
import { handleQuery, queryServiceOf, type QueryEnv } from '../iam/query-handler.js';
import { recordAccountId } from '../iam/env.js';
import { purgeExpiredKeys } from '../sts/temporary-keys.js';
import { openStore } from '../storage/open.js';
import type { Store } from '../storage/types.js';
import { requireSecret, serviceContext, type ServiceContext } from '../secrets/context.js';
import { operations } from '../secrets/service.js';
import { purgeDeleted } from '../secrets/ops/lifecycle.js';
import { isKnownOperation, validateInput } from '../protocols/validate.js';
import { parseJsonBody } from '../protocols/json-body.js';
import { sendError, sendJson } from '../protocols/aws-json.js';
import { readBody } from './body.js';
import { EXTENSION_PREFIX, extensions } from './extensions.js';
import { RotationEngine, type EngineOptions } from '../rotation/engine.js';
import { ModuleFunctions, type FunctionSource, type ModuleHandler } from '../rotation/registry.js';
import { rotationService } from '../rotation/ops.js';
import { handleLambda, isLambdaPath, LAMBDA_MAX_REQUEST_BYTES, type LambdaEnv } from '../rotation/functions/lambda-api.js';
import { processFunctionSource } from '../rotation/functions/source.js';
import { builtinFunctionSource } from '../rotation/functions/builtin.js';
import { EventFeed, recordLabelChange, type StreamFilter } from './event-stream.js';
import { guardedCall } from './guard.js';
import { accessDenied, authorize } from '../secrets/authorize.js';
import { AuditWriter } from '../monitoring/audit.js';
import type { DriverOptions } from '../rotation/rotators/types.js';
import { stopAllInvocations, invocationsSettled } from '../rotation/functions/process-runtime.js';

/** How a server is configured (flags and LOCKSTEP_* variables end up here). */
export interface LockstepConfig {
  port: number;
  host: string;
  dataDir: string;
  region: string;
  accountId: string;
  storage?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  logger?: Logger;
  maxBodyBytes?: number;
  purgeIntervalMs?: number;
  rotation?: EngineOptions;
  /** In-process rotation functions (the module runtime), registered before the scheduler starts. */
  moduleFunctions?: Record<string, ModuleHandler>;
}

/** A running server. */
export interface Lockstep {
  url: string;
  port: number;
  credentials: Credentials;
  ctx: ServiceContext;
  server: Server;
  /** Resolves access keys; told when keys and policies change. */
  auth: Authenticator;
  /** Registers an in-process rotation function (the module runtime); returns its ARN. */
  registerRotationFunction(name: string, handler: ModuleHandler): string;
  engine: RotationEngine;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'secretsmanager.';

/**
 * Idle keep-alive connections stay open this long. Clients (the SDKs' agents) keep idle sockets and
 * reuse them; a server that closes sooner races them and a request lands on a closing socket
 * (ECONNRESET). A long timeout makes that race rare; shutdown closes idle connections anyway.
 */
const KEEP_ALIVE_MS = 65_000;

/** A data directory made ready: keys loaded, store open and migrated, credentials in place. */
export interface Prepared {
  keyring: Keyring;
  store: Store;
  credentials: Credentials;
}

/**
 * Prepares the data directory: creates it, the master key and the root credentials on first
 * start, migrates the store and refuses a master key that is not the directory's own.
 */
export async function prepareDataDir(cfg: Pick<LockstepConfig, 'dataDir' | 'storage' | 'env'>): Promise<Prepared> {
  const env = cfg.env ?? process.env;
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const { keyring } = loadMasterKey(cfg.dataDir, env);
  const store = openStore(cfg.storage ?? 'sqlite', cfg.dataDir);
  try {
    await checkMasterKey(store, keyring, cfg.dataDir);
    return { keyring, store, credentials: await loadCredentials(store, keyring, cfg.dataDir, env) };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Opens the store, loads keys and credentials, and starts listening. */
export async function startLockstep(cfg: LockstepConfig): Promise<Lockstep> {
  const now = cfg.now ?? Date.now;
  const maxBody = cfg.maxBodyBytes ?? 1024 * 1024;
  const { keyring, store, credentials } = await prepareDataDir(cfg);
  await recordAccountId(store, cfg.accountId).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  const ctx = serviceContext({ store, keyring, region: cfg.region, accountId: cfg.accountId, now });
  const moduleFunctions = new ModuleFunctions(cfg.region, cfg.accountId);
  for (const [name, handler] of Object.entries(cfg.moduleFunctions ?? {})) moduleFunctions.register(name, handler);
  const sources: FunctionSource[] = [
    moduleFunctions,
    builtinFunctionSource({ ctx, driverOptions: driverOptionsFromEnv(cfg.env ?? process.env) }),
  ];
  const engine = new RotationEngine(ctx, sources, { ...engineOptionsFromEnv(cfg.env ?? process.env), ...cfg.rotation, logger: cfg.logger });
  const rotation = rotationService(ctx, engine, sources);
  ctx.rotation = rotation;
  const feed = new EventFeed(store);
  ctx.hooks = {
    async labelsChanged(tx, secret, before, after, versionId) {
      await rotation.labelsChanged(tx, secret, before, after, versionId);
      await recordLabelChange(tx, ctx.now(), secret, before, after);
    },
  };
  const audit = new AuditWriter(store, now);
  const auth = createAuthenticator({ store, keyring, region: cfg.region, accountId: cfg.accountId, now });
  const queryEnv: QueryEnv = { store, keyring, accountId: cfg.accountId, now, auth, maxBodyBytes: maxBody, logger: cfg.logger, audit: (r) => audit.record(r) };

  async function handleApi(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const body = await readBody(req, maxBody);
    const principal = await auth.authenticate({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body }, 'secretsmanager');
    const identity = principal.kind === 'root' ? [] : await auth.identityPolicies(principal);
    const call = { principal, identity, requestId, sourceIp: req.socket.remoteAddress };
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith(EXTENSION_PREFIX)) {
      const name = target.slice(EXTENSION_PREFIX.length);
      const ext = Object.hasOwn(extensions, name) ? extensions[name] : undefined;
      if (!ext) throw Errors.unknownOperation();
      const parsed = parseJsonBody(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw Errors.serialization('Start of structure or map found where not expected.');
      const input = parsed as Record<string, any>;
      sendJson(res, 200, await guardedCall(ctx, audit, call, name, input, () => ext(ctx, input), `lockstep:${name}`), requestId);
      return;
    }
    const op = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const handler = operations[op];
    if (!handler || !isKnownOperation(op)) throw Errors.unknownOperation();
    const input = validateInput(op, parseJsonBody(body));
    const out = await guardedCall(ctx, audit, call, op, input, () => handler(ctx, input));
    sendJson(res, 200, out, requestId);
  }

  let url = '';
  let closingDown = false;
  const lambdaEnv: LambdaEnv = {
    store, keyring, region: cfg.region, accountId: cfg.accountId, dataDir: cfg.dataDir, now, logger: cfg.logger,
    endpointUrl: () => url,
    auth,
    audit: (r) => audit.record(r),
    closing: () => closingDown,
  };
  sources.push(processFunctionSource(lambdaEnv));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    // While shutting down, every answer closes its connection so the server can finish.
    if (closingDown) res.setHeader('connection', 'close');
    try {
      if (req.method === 'GET' && (req.url === '/health' || req.url === '/healthz')) {
        sendJson(res, 200, { status: 'ok' }, requestId, 'application/json');
        return;
      }
      if (req.method === 'GET' && /^\/lockstep\/events(?:\?|$)/.test(req.url ?? '')) {
        await readBody(req, maxBody);
        const principal = await auth.authenticate({ method: 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.alloc(0) }, 'secretsmanager');
        const allowed = await authorize(ctx, {
          principal, identity: principal.kind === 'root' ? [] : await auth.identityPolicies(principal),
          op: 'SubscribeEvents', input: {}, sourceIp: req.socket.remoteAddress, action: 'lockstep:SubscribeEvents',
        });
        if (allowed.decision !== 'allow' && allowed.decision !== 'root') throw accessDenied(principal, allowed);
        const stillValid = () => store.read(async (tx) => {
          const k = await tx.identity.accessKey(principal.accessKeyId);
          return k !== undefined && k.status === 'Active' && (k.expiresMs == null || k.expiresMs > now());
        });
        await feed.open(res, await streamFilter(ctx, req), requestId, stillValid);
        return;
      }
      if (isLambdaPath(req.url ?? '')) {
        // Only the two operations that upload code may send a large body (a zip up to Lambda's limit).
        const uploadsCode = /^\/2015-03-31\/functions\/?(?:[^/?]+\/code)?(?:\?|$)/.test(req.url ?? '') && req.method !== 'GET';
        const body = await readBody(req, uploadsCode ? LAMBDA_MAX_REQUEST_BYTES : maxBody);
        await auth.prepare(req.headers);
        const verify = () => auth.verify({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }, 'lambda');
        await handleLambda(lambdaEnv, req, res, body, requestId, verify);
        return;
      }
      const queryService = req.method === 'POST' ? queryServiceOf(req.headers) : undefined;
      if (queryService !== undefined) {
        await handleQuery(queryEnv, queryService, req, res, requestId);
        return;
      }
      if (req.method !== 'POST' || req.headers['x-amz-target'] === undefined) {
        // Drain what was sent, then answer as AWS does for a request that names no operation.
        await readBody(req, maxBody).catch(() => undefined);
        if (req.headers.authorization === undefined) {
          throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400);
        }
        throw Errors.unknownOperation();
      }
      await handleApi(req, res, requestId);
    } catch (e) {
      if (isServiceError(e)) {
        sendError(res, e, requestId);
      } else {
        cfg.logger?.error({ requestId, err: errorSummary(e) }, 'internal error');
        sendError(res, Errors.internal(), requestId);
      }
    }
  }

  const server = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: KEEP_ALIVE_MS, maxHeaderSize: 16 * 1024 },
    (req, res) => void handle(req, res),
  );
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const purge = async () => {
    try {
      await purgeDeleted(ctx);
      await purgeExpiredKeys(store, now());
    } catch (e) {
      cfg.logger?.error({ err: errorSummary(e) }, 'purge of deleted secrets failed');
    }
  };
  await purge();
  const timer = setInterval(purge, cfg.purgeIntervalMs ?? 60_000);
  timer.unref();
  engine.start();

  const port = (server.address() as AddressInfo).port;
  url = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    credentials,
    ctx,
    server,
    auth,
    engine,
    registerRotationFunction: (name, handler) => moduleFunctions.register(name, handler),
    close() {
      closing ??= (async () => {
        closingDown = true;
        clearInterval(timer);
        feed.close();
        await engine.stop();
        stopAllInvocations();
        await new Promise<void>((resolve) => {
          // Connections that go idle after their last in-flight answer are closed too.
          const sweep = setInterval(() => server.closeIdleConnections(), 25);
          server.close(() => {
            clearInterval(sweep);
            resolve();
          });
          server.closeIdleConnections();
        });
        // Invocations end (killed above) and revoke their keys before the store closes.
        await invocationsSettled();
        await audit.drain();
        await store.close();
      })();
      return closing;
    },
  };
}

/** The filter of an event-stream request: `secretId`, `types` (comma-separated), `after` or Last-Event-ID. */
async function streamFilter(ctx: ServiceContext, req: IncomingMessage): Promise<StreamFilter> {
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  const afterText = q.get('after') ?? (typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : undefined);
  let after: number | undefined;
  if (afterText !== undefined && afterText !== null) {
    if (!/^\d{1,15}$/.test(afterText)) throw Errors.invalidParameter('after (or Last-Event-ID) must be an event id: a whole number.');
    after = Number(afterText);
  }
  const types = q.get('types')?.split(',').map((t) => t.trim()).filter(Boolean);
  const secretId = q.get('secretId') ?? undefined;
  const secretArn = secretId === undefined ? undefined : await ctx.store.read(async (tx) => (await requireSecret(ctx, tx, secretId)).arn);
  return { after, types, secretArn };
}

/**
 * Refuses to start with a master key other than the one the data directory was created with,
 * naming both key ids (which reveal nothing about the keys).
 */
async function checkMasterKey(store: Store, keyring: Keyring, dataDir: string): Promise<void> {
  const kekId = keyring.active.id;
  await store.transaction(async (tx) => {
    const known = await tx.meta.get('kek_id');
    if (known === undefined) await tx.meta.set('kek_id', kekId);
    // A retired key of the keyring is fine too: a master-key rotation stopped between its two writes.
    else if (known !== kekId && keyring.get(known) === undefined) {
      throw new Error(
        `the master key does not match the data directory ${dataDir}: it was created with key ${known}, ` +
          `and this key is ${kekId}. Start with the master key of this data directory (master.key or LOCKSTEP_MASTER_KEY).`,
      );
    }
  });
}

/** Engine tunables from LOCKSTEP_ROTATION_* variables (milliseconds). */
/**
 * How the built-in rotation functions reach databases: LOCKSTEP_DB_CA_FILE (a PEM bundle trusted for
 * `ssl: true` besides the system's roots) and LOCKSTEP_DB_CONNECT_TIMEOUT_MS (default 5000).
 */
function driverOptionsFromEnv(env: NodeJS.ProcessEnv): DriverOptions {
  const timeout = env.LOCKSTEP_DB_CONNECT_TIMEOUT_MS;
  const n = timeout === undefined || timeout === '' ? 5000 : Number(timeout);
  if (!Number.isInteger(n) || n < 1) throw new Error('LOCKSTEP_DB_CONNECT_TIMEOUT_MS must be a whole number of milliseconds (at least 1)');
  const caFile = env.LOCKSTEP_DB_CA_FILE;
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (e) {
      throw new Error(`LOCKSTEP_DB_CA_FILE: cannot read ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`LOCKSTEP_DB_CA_FILE: ${caFile} holds no PEM certificate`);
  }
  return { connectTimeoutMs: n, ...(ca ? { ca } : {}) };
}

function engineOptionsFromEnv(env: NodeJS.ProcessEnv): EngineOptions {
  const out: EngineOptions = {};
  const num = (name: string, unit = 'milliseconds') => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of ${unit} (at least 1)`);
    return n;
  };
  const set = <K extends keyof EngineOptions>(k: K, v: EngineOptions[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('tickMs', num('LOCKSTEP_ROTATION_TICK_MS'));
  set('retryBaseMs', num('LOCKSTEP_ROTATION_RETRY_BASE_MS'));
  set('leaseMs', num('LOCKSTEP_ROTATION_LEASE_MS'));
  set('maxAttempts', num('LOCKSTEP_ROTATION_MAX_ATTEMPTS', 'attempts'));
  return out;
}

/** What may be logged about an unexpected error: its type and stack frames, never request data. */
export function errorSummary(e: unknown): { type: string; stack?: string } {
  if (e instanceof Error) return { type: e.name, stack: e.stack?.split('\n').slice(1, 6).join('\n') };
  return { type: typeof e };
}
