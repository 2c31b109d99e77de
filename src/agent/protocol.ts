import type { CachedSecret } from '../client/cache.js';

/*
 * What goes over the wire between applications and the agent, with the AWS Secrets Manager Agent's
 * exact shapes: the query and path forms of a request, the GetSecretValue body, and the status
 * codes and bodies of every error. Pure functions, unit-tested.
 */

/** An HTTP answer other than a secret: status and body (AWS sends no content type). */
export interface HttpAnswer {
  status: number;
  body: string;
}

/** What an application asked for. */
export interface SecretQuery {
  secretId: string;
  versionId?: string;
  versionStage?: string;
  refreshNow: boolean;
}

const answer = (status: number, body: string): HttpAnswer => ({ status, body });

/** AWS's plain-text answers. */
export const PLAIN = {
  healthy: 'healthy',
  notFound: answer(404, 'Not found'),
  badToken: answer(403, 'Bad Token'),
  forwarded: answer(400, 'Forwarded'),
  notAllowed: answer(405, 'Not allowed'),
  tooMany: answer(429, 'Connection limit exceeded'),
} as const;

function refreshValue(v: string): boolean | HttpAnswer {
  switch (v.toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      return answer(400, 'invalid refreshNow value');
  }
}

/**
 * Reads the query parameters (form-encoded, as AWS reads them: `+` is a space, the last of a
 * repeated parameter wins, empty pairs are skipped). `secretId` is allowed only in the query form.
 */
function readParams(query: string, q: SecretQuery, allowSecretId: boolean): HttpAnswer | undefined {
  for (const [k, v] of new URLSearchParams(query)) {
    switch (k) {
      case 'secretId':
        if (!allowSecretId) return answer(400, `unknown parameter: ${k}`);
        q.secretId = v;
        break;
      case 'versionId':
        q.versionId = v;
        break;
      case 'versionStage':
        q.versionStage = v;
        break;
      case 'refreshNow': {
        const r = refreshValue(v);
        if (typeof r !== 'boolean') return r;
        q.refreshNow = r;
        break;
      }
      default:
        return answer(400, `unknown parameter: ${k}`);
    }
  }
  return undefined;
}

/** `GET /secretsmanager/get?secretId=...[&versionId=...][&versionStage=...][&refreshNow=true]`. */
export function parseQueryForm(query: string): SecretQuery | HttpAnswer {
  const q: SecretQuery = { secretId: '', refreshNow: false };
  const err = readParams(query, q, true);
  if (err) return err;
  if (q.secretId === '') return answer(400, 'missing parameter secretId');
  return q;
}

/**
 * `GET <prefix><secretId>[?versionId=...][&versionStage=...][&refreshNow=true]`: the rest of the
 * path after the prefix is the secret id (a name may hold slashes: /v1/prod/db). It is
 * percent-decoded (secret names and ARNs cannot hold '%', so nothing is ambiguous).
 */
export function parsePathForm(path: string, query: string, prefix: string): SecretQuery | HttpAnswer {
  const raw = path.slice(prefix.length);
  if (raw === '') return answer(400, 'missing secret ID');
  let secretId = raw;
  try {
    secretId = decodeURIComponent(raw);
  } catch {
    // a malformed escape is looked up as written
  }
  const q: SecretQuery = { secretId, refreshNow: false };
  return readParams(query, q, false) ?? q;
}

/** True when `x` is an error answer rather than a query. */
export function isAnswer(x: SecretQuery | HttpAnswer): x is HttpAnswer {
  return (x as HttpAnswer).status !== undefined;
}

/** Seconds since the epoch with the fraction AWS's agent writes: "1569534789.046", "1569534789". */
export function epochSeconds(d: Date): string {
  const ms = d.getTime();
  const secs = Math.floor(ms / 1000);
  const frac = ms - secs * 1000;
  return frac === 0 ? String(secs) : `${secs}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/**
 * The body of a secret, as AWS's agent writes it: GetSecretValue's fields in its order (ARN, Name,
 * VersionId, SecretString or SecretBinary in base64, VersionStages, CreatedDate as a string of epoch
 * seconds), compact JSON.
 */
export function secretBody(v: CachedSecret): string {
  const o: Record<string, unknown> = { ARN: v.ARN ?? null, Name: v.Name ?? null, VersionId: v.VersionId ?? null };
  if (v.SecretString !== undefined) o.SecretString = v.SecretString;
  if (v.SecretBinary !== undefined) o.SecretBinary = Buffer.from(v.SecretBinary.buffer, v.SecretBinary.byteOffset, v.SecretBinary.byteLength).toString('base64');
  o.VersionStages = v.VersionStages;
  o.CreatedDate = v.CreatedDate ? epochSeconds(v.CreatedDate) : null;
  return JSON.stringify(o);
}

/** AWS's agent's error body: `{"__type":"<code>", "message":"<message>"}`, or InternalFailure alone. */
export function errorBody(code: string, message: string): string {
  if (message === '' || code === 'InternalFailure') return '{"__type":"InternalFailure"}';
  return `{"__type":${JSON.stringify(code)}, "message":${JSON.stringify(message)}}`;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ECONNABORTED',
]);

/** What kind of failure an SDK error is. */
export type FailureKind = 'service' | 'timeout' | 'network' | 'internal';

interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

/** Classifies an error from the SDK (or the cache in front of it). */
export function failureKind(e: unknown): FailureKind {
  const err = (e ?? {}) as SdkErrorLike;
  if (typeof err.$metadata?.httpStatusCode === 'number' && typeof err.name === 'string') return 'service';
  // The SDK names a reset connection 'TimeoutError' (so that it is retried); for AWS's agent it is an
  // I/O error. So the code decides first.
  const codes = [err.code, ...(Array.isArray(err.errors) ? err.errors.map((x) => (x as SdkErrorLike)?.code) : [])];
  if (codes.some((c) => c !== undefined && NETWORK_CODES.has(c)) || /socket hang up/i.test(err.message ?? '')) return 'network';
  if (err.name === 'TimeoutError' || err.code === 'ETIMEDOUT' || err.code === 'ESOCKETTIMEDOUT') return 'timeout';
  return 'internal';
}

/**
 * The answer for a failed read, as AWS's agent maps SDK errors: a service error keeps its code,
 * message and HTTP status; a timeout is 504 TimeoutError; a network failure 502 ConnectionError;
 * anything else 500 InternalFailure.
 */
export function failureAnswer(e: unknown): HttpAnswer {
  const err = (e ?? {}) as SdkErrorLike;
  switch (failureKind(e)) {
    case 'service':
      return answer(err.$metadata!.httpStatusCode!, errorBody(err.name!, err.message ?? ''));
    case 'timeout':
      return answer(504, errorBody('TimeoutError', 'Timeout'));
    case 'network':
      return answer(502, errorBody('ConnectionError', 'Read Error'));
    default:
      return answer(500, errorBody('InternalFailure', ''));
  }
}

/** True when a failure is worth serving a cached value through (AWS's transient errors). */
export function isTransient(e: unknown): boolean {
  const kind = failureKind(e);
  if (kind === 'timeout' || kind === 'network') return true;
  if (kind !== 'service') return false;
  const err = e as SdkErrorLike;
  const status = err.$metadata!.httpStatusCode!;
  return status >= 500 || status === 429 || /Throttl|TooManyRequests/.test(err.name ?? '');
}
