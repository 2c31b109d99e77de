import { createHash, createHmac } from 'node:crypto';

/*
 * A bare SigV4-signed awsJson1.1 POST, for the recorded scenarios that talked to AWS over plain HTTP (no SDK
 * idempotency-token filling, no response parsing). Header signing as in the SigV4 specification.
 */

/** Where and as whom to send. */
export interface RawTarget {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** Status and parsed JSON body of the response (body is the text when it is not JSON). */
export interface RawResponse {
  status: number;
  body: unknown;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** POSTs `payload` as `secretsmanager.<operation>` to the endpoint, signed for service `secretsmanager`. */
export async function signedJsonPost(target: RawTarget, operation: string, payload: unknown): Promise<RawResponse> {
  const url = new URL('/', target.endpoint);
  const body = JSON.stringify(payload);
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

  const sent: Record<string, string> = { ...headers };
  delete sent.host; // fetch sets Host from the URL itself (the same value that was signed)
  sent.authorization =
    `AWS4-HMAC-SHA256 Credential=${target.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;

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
