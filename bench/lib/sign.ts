// SigV4 signing of raw awsJson1.1 requests with the SDK's own signer (@smithy/signature-v4), so the
// load generators can replay real, server-verified signatures with fixed headers and body.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';

/** SHA-256 / HMAC-SHA-256 on node:crypto, in the shape @smithy/signature-v4 expects. */
export class NodeSha256 implements Checksum {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
  reset(): void {
    this.h = this.fresh();
  }
}

function toBuffer(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** Credentials of the server under test. */
export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A signed request, ready to send or replay: header names as sent on the wire. */
export interface SignedRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Signs Secrets Manager requests for one endpoint. */
export class Signer {
  private readonly sv4: SignatureV4;
  private readonly url: URL;

  constructor(endpoint: string, creds: Creds, region = 'us-east-1') {
    this.url = new URL(endpoint);
    this.sv4 = new SignatureV4({ service: 'secretsmanager', region, credentials: creds, sha256: NodeSha256, applyChecksum: false });
  }

  /** Signs one call; the signature stays valid for the server's 5-minute skew window. */
  async sign(operation: string, input: unknown): Promise<SignedRequest> {
    const body = JSON.stringify(input);
    const headers: Record<string, string> = {
      host: this.url.host,
      'content-type': 'application/x-amz-json-1.1',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-target': `secretsmanager.${operation}`,
    };
    const signed = await this.sv4.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path: '/',
      query: {},
      headers,
      body,
    });
    // Wire spellings: autocannon adds its own Content-Length unless the key is spelled exactly so.
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers as Record<string, string>)) {
      out[k === 'content-length' ? 'Content-Length' : k] = v;
    }
    return { method: 'POST', path: '/', headers: out, body };
  }
}
