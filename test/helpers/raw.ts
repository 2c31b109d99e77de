import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';

/*
 * Hand-made, SigV4-signed requests: what the SDK would never send (missing members, malformed bodies,
 * chunked uploads, bodies held back in flight). Two signers:
 *  - the JS SDK's own (@smithy/signature-v4 on node:crypto), `sdkSigner` / `sdkSignedJsonHeaders`;
 *  - one written from the SigV4 specification, `handSignedJsonHeaders`, which needs nothing from the SDK.
 */

/** Where and as whom to send. */
export interface RawTarget {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

// ---- the SDK's signer ----

/** node:crypto behind smithy's Checksum interface (HMAC when constructed with a key). */
export class NodeSha256 implements Checksum {
  private h!: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.reset();
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    const s = this.secret;
    if (s === undefined) this.h = createHash('sha256');
    else if (typeof s === 'string') this.h = createHmac('sha256', s);
    else if (s instanceof ArrayBuffer) this.h = createHmac('sha256', new Uint8Array(s));
    else this.h = createHmac('sha256', new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
  }
}

/** @smithy/signature-v4 (the JS SDK's signer) on node:crypto. */
export function sdkSigner(opts: {
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  service?: string;
  applyChecksum?: boolean;
}): SignatureV4 {
  return new SignatureV4({
    credentials: opts.credentials,
    region: opts.region,
    service: opts.service ?? 'secretsmanager',
    sha256: NodeSha256,
    ...(opts.applyChecksum === undefined ? {} : { applyChecksum: opts.applyChecksum }),
  });
}

/**
 * Signs an awsJson1.1 `POST /` of `body` to `target` with the SDK's signer, `amzTarget` as X-Amz-Target
 * (e.g. `secretsmanager.CreateSecret`), and returns the signed headers (host included).
 */
export async function sdkSignedJsonHeaders(target: RawTarget, amzTarget: string, body: string | Uint8Array): Promise<Record<string, string>> {
  const url = new URL(target.endpoint);
  const signed = await sdkSigner(target).sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': amzTarget,
    },
    body,
  });
  return { ...signed.headers };
}

/** A raw response: status, body text, and the body parsed where it is JSON. */
export interface RawHttpResponse {
  status: number;
  body: string;
  json: Record<string, unknown> | undefined;
  /** The error code from __type, without any namespace prefix. */
  type: string | undefined;
}

/**
 * Signs (with the SDK's signer) and POSTs a body to the server. `target` is the operation name
 * (`rawTarget` replaces the whole X-Amz-Target); `chunked` streams the body without a Content-Length
 * in several chunks.
 */
export async function sdkSignedPost(
  server: RawTarget,
  target: string,
  body: string | Buffer,
  opts: { chunked?: boolean; rawTarget?: string } = {},
): Promise<RawHttpResponse> {
  const url = new URL(server.endpoint);
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers = await sdkSignedJsonHeaders(server, opts.rawTarget ?? `secretsmanager.${target}`, payload);
  if (!opts.chunked) headers['content-length'] = String(payload.length);
  return new Promise<RawHttpResponse>((resolve, reject) => {
    let settled = false;
    const req = request({ host: url.hostname, port: Number(url.port), method: 'POST', path: '/', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        settled = true;
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const t = typeof json?.__type === 'string' ? (json.__type as string).split('#').pop() : undefined;
        resolve({ status: res.statusCode ?? 0, body: text, json, type: t });
      });
      res.on('error', (e) => {
        if (!settled) reject(e);
      });
    });
    // The server may answer (413) and close before the whole body is written: ignore write errors
    // once a response is on its way; otherwise they are real failures.
    req.on('error', (e) => {
      if (!settled) setTimeout(() => !settled && reject(e), 200);
    });
    if (opts.chunked) {
      const step = 64 * 1024;
      for (let i = 0; i < payload.length; i += step) req.write(payload.subarray(i, i + step));
      req.end();
    } else {
      req.end(payload);
    }
  });
}

// ---- the signer written from the specification ----

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * SigV4 headers (signed now, for service `secretsmanager`) for an awsJson1.1 `secretsmanager.<operation>`
 * POST of `body` to `target`: host, content-type, x-amz-date and x-amz-target (all signed),
 * content-length and authorization.
 */
export function handSignedJsonHeaders(target: RawTarget, operation: string, body: string): Record<string, string> {
  const url = new URL('/', target.endpoint);
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-target': `secretsmanager.${operation}`,
  };
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    'POST',
    '/',
    '',
    names.map((n) => `${n}:${headers[n].trim()}\n`).join(''),
    signedHeaders,
    sha256Hex(body),
  ].join('\n');
  const scope = `${day}/${target.region}/secretsmanager/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${target.credentials.secretAccessKey}`, day);
  for (const part of [target.region, 'secretsmanager', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return {
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
    authorization:
      `AWS4-HMAC-SHA256 Credential=${target.credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** Status and parsed JSON body of the response (body is the text when it is not JSON). */
export interface RawResponse {
  status: number;
  body: unknown;
}

/**
 * POSTs `payload` as `secretsmanager.<operation>` to the endpoint, hand-signed, over fetch (no SDK
 * idempotency-token filling, no response parsing).
 */
export async function signedJsonPost(target: RawTarget, operation: string, payload: unknown): Promise<RawResponse> {
  const url = new URL('/', target.endpoint);
  const body = JSON.stringify(payload);
  const sent = handSignedJsonHeaders(target, operation, body);
  // fetch sets Host (from the URL itself: the same value that was signed) and Content-Length itself.
  delete sent.host;
  delete sent['content-length'];
  const res = await fetch(url, { method: 'POST', headers: sent, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed };
}

/** A signed request whose body is held back: the server has the headers, the handler waits for the rest. */
export interface HeldRequest {
  /** Resolves once the headers and the first byte of the body are written. */
  sent: Promise<void>;
  /** Sends the rest of the body. */
  release(): void;
  /** Status and body text once answered. */
  response: Promise<{ status: number; body: string }>;
  /** Closes the client side (and its keep-alive connection). */
  destroy(): void;
}

/**
 * Sends the headers and the first byte of a hand-signed awsJson1.1 request; the rest goes on `release()`.
 * `keepAlive: true` keeps the connection open after the response, as the SDKs' pooled agents do.
 */
export function heldRequest(
  endpoint: string,
  region: string,
  creds: { accessKeyId: string; secretAccessKey: string },
  operation: string,
  payload: unknown,
  opts: { keepAlive?: boolean } = {},
): HeldRequest {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const url = new URL('/', endpoint);
  const agent = opts.keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
  const req = request({
    host: url.hostname,
    port: url.port,
    method: 'POST',
    path: '/',
    agent,
    headers: {
      ...handSignedJsonHeaders({ endpoint, region, credentials: creds }, operation, body.toString('utf8')),
      connection: opts.keepAlive ? 'keep-alive' : 'close',
    },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.once('error', reject);
    });
  });
  response.catch(() => undefined);
  const sent = new Promise<void>((resolve, reject) => {
    req.write(body.subarray(0, 1), (err) => (err ? reject(err) : resolve()));
  });
  sent.catch(() => undefined);
  return {
    sent,
    release() {
      req.end(body.subarray(1));
    },
    response,
    destroy() {
      req.destroy();
      if (agent) agent.destroy();
    },
  };
}
