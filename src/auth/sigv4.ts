import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ServiceError } from '../errors.js';

/*
 * AWS Signature Version 4 verification of header-signed requests (Authorization: AWS4-HMAC-SHA256 ...).
 * Query-string (presigned) auth and S3's single-encoded paths are out of scope.
 *
 * Error codes and texts are AWS's own, as quoted in public reports of real responses:
 *  - MissingAuthenticationTokenException "Missing Authentication Token": Secrets Manager, HTTP 400,
 *    content-type application/x-amz-json-1.1 (aws/aws-sdk-cpp#2407, #2466).
 *  - IncompleteSignatureException texts ("Authorization header requires 'Credential' parameter. ...
 *    Authorization=<header>", "Date must be in ISO-8601 'basic format'. Got '...'. See ...",
 *    "Unsupported AWS 'algorithm': ...", "Credential must have exactly 5 slash-delimited elements, ...")
 *    and the InvalidSignatureException texts ("Signature expired: ...", "Credential should be scoped to a valid
 *    region, not '...'.", "... correct service: '...'.", "... valid terminator: ...", "Date in Credential scope
 *    does not match ...", "'Host' must be a 'SignedHeader' in the AWS Authorization."): recorded DynamoDB
 *    (awsJson) responses in mhart/dynalite's validations; the current "'Host' or ':authority' ..." wording and
 *    the joined scope messages as in scratchstack-aws-signature's tests; "'X' not a valid key=value pair (missing
 *    equal-sign) in Authorization header: '...'." from STS/Cloud9/DynamoDB reports (aws/aws-sdk-go#289,
 *    iann0036/cloud9-sync#10); "'accept' is named as a SignedHeader, but it does not exist in the HTTP request."
 *    from AppSync (awslabs/aws-mobile-appsync-sdk-js#702); the 5-minute skew text from Secrets Manager
 *    GetSecretValue (boto/botocore#3587).
 *  - awsJson services name the code IncompleteSignatureException (the Query protocol's "IncompleteSignature"):
 *    SSM (aws/aws-sdk-js#4285), Cloud9, DynamoDB.
 * HTTP status: all 400. Secrets Manager answers UnrecognizedClientException with 400
 * (spring-attic/spring-cloud-aws#492, external-secrets/external-secrets#4254), MissingAuthenticationToken with 400
 * (aws-sdk-cpp#2407), IncompleteSignature is documented 400 (Secrets Manager API reference, Common Errors), and
 * InvalidSignatureException is 400 on awsJson services (DynamoDB, Kinesis, ECS reports). restJson services such as
 * Lambda answer the same codes with 403 (iann0036/iamlive#58), which a Lambda front end would have to remap.
 * No unsigned header is rejected by AWS with a recorded text except Host; other required headers use the same
 * "'<Name>' must be a 'SignedHeader' in the AWS Authorization." form.
 */

/** A request as received: raw target, node-style lower-cased headers (arrays are joined with ','), raw body. */
export interface IncomingSignedRequest {
  method: string; // e.g. 'POST'
  url: string; // raw request target: path + optional query, e.g. '/2015-03-31/functions?Marker=x'
  headers: Record<string, string | string[] | undefined>; // IncomingMessage.headers
  body: Buffer; // the raw body bytes
}

/** Verifies one request for a signing name; returns the access key id or throws ServiceError. */
export interface SigV4Verifier {
  verify(req: IncomingSignedRequest, service: string): { accessKeyId: string };
}

/** Configuration of a verifier: region, accepted signing names, key lookup, clock and policy. */
export interface SigV4Options {
  region: string; // the credential scope must name it
  services: string[]; // accepted signing names, e.g. ['secretsmanager', 'lambda']
  lookupSecret: (accessKeyId: string) => string | undefined; // undefined for an unknown key id
  now?: () => number; // clock in ms since the epoch, default Date.now
  maxSkewMs?: number; // default 5 minutes
  requiredSignedHeaders?: string[]; // default host, x-amz-date (or date) and x-amz-target when present
}

/** AWS's fixed messages for signature failures. */
export const SigV4Messages = {
  missingToken: 'Missing Authentication Token',
  unrecognizedClient: 'The security token included in the request is invalid.',
  signatureMismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  hostNotSigned: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
} as const;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
const DEFAULT_SKEW_MS = 5 * 60 * 1000;
const KEY_CACHE_LIMIT = 256;
/** Signs for unknown key ids, so that they cost the same work as known ones. */
const DUMMY_SECRET = 'lockstep/unknown-access-key/0000000000000000000000';
const HEX = Array.from({ length: 256 }, (_, b) => '%' + b.toString(16).toUpperCase().padStart(2, '0'));

const incomplete = (message: string) => new ServiceError('IncompleteSignatureException', message, 400);
const invalid = (message: string) => new ServiceError('InvalidSignatureException', message, 400);

// One-shot hashing (node >= 20.12) allocates no Hash object: on the hot path that matters more than
// the hashing itself. Older nodes fall back to createHash.
const oneShot = (nodeCrypto as { hash?: (alg: string, data: string | Buffer, enc: string) => string | Buffer }).hash;

function sha256Hex(data: string | Buffer): string {
  return oneShot ? (oneShot('sha256', data, 'hex') as string) : createHash('sha256').update(data).digest('hex');
}

function sha256(data: Buffer): Buffer {
  return oneShot ? (oneShot('sha256', data, 'buffer') as Buffer) : createHash('sha256').update(data).digest();
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** A signing key ready for HMAC-SHA256 by two one-shot hashes (RFC 2104): the key xor ipad and xor opad. */
interface HmacKey {
  inner: Buffer;
  outer: Buffer;
}

function hmacKey(key: Buffer): HmacKey {
  const block = Buffer.alloc(64);
  key.copy(block); // SigV4 signing keys are 32 bytes, shorter than the block
  const inner = Buffer.alloc(64);
  const outer = Buffer.alloc(64);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  return { inner, outer };
}

function hmacWith(k: HmacKey, data: string): Buffer {
  const innerHash = sha256(Buffer.concat([k.inner, Buffer.from(data, 'utf8')]));
  return sha256(Buffer.concat([k.outer, innerHash]));
}

/** RFC 3986 percent-encoding of bytes: unreserved characters kept, everything else %XX (upper case). */
function encodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const unreserved =
      (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ||
      b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : HEX[b];
  }
  return out;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** Decodes %XX escapes to bytes ('+' stays '+'); a '%' not followed by two hex digits is kept literally. */
function percentDecode(s: string): Buffer {
  const src = Buffer.from(s, 'utf8');
  if (!src.includes(0x25)) return src;
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const hi = src[i] === 0x25 && i + 2 < src.length ? hexValue(src[i + 1]) : -1;
    const lo = hi >= 0 ? hexValue(src[i + 2]) : -1;
    if (lo >= 0) {
      out[n++] = hi * 16 + lo;
      i += 2;
    } else out[n++] = src[i];
  }
  return out.subarray(0, n);
}

/** Splits a request target (origin- or absolute-form) into raw path and raw query. */
function splitTarget(url: string): { path: string; query: string } {
  let target = url;
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (authority) target = target.slice(authority[0].length);
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  return { path: path || '/', query: q < 0 ? '' : target.slice(q + 1) };
}

/**
 * Canonical URIs of a raw path, dot segments and empty segments removed as the SDKs do. `normalized` decodes each
 * segment and encodes it twice (the wire encoding, then SigV4's); `raw` encodes the segment as received once,
 * which is what a signer computes from a path that was not strictly encoded (the test suite's "/example space/").
 */
function canonicalUris(path: string): { normalized: string; raw: string } {
  if (path === '/') return ROOT_URIS;
  const segments: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const tail = segments.length > 0 && path.endsWith('/') ? '/' : '';
  const build = (f: (seg: string) => string) => '/' + segments.map(f).join('/') + tail;
  return {
    normalized: build((seg) => encodeBytes(percentDecode(seg)).replace(/%/g, '%25')),
    raw: build((seg) => encodeBytes(Buffer.from(seg, 'utf8'))),
  };
}

const ROOT_URIS = { normalized: '/', raw: '/' } as const;

/** Canonical query: pairs decoded, re-encoded per RFC 3986, sorted by key then value; `k` becomes `k=`. */
function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([encodeBytes(percentDecode(key)), encodeBytes(percentDecode(value))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const NEEDS_FOLDING = /\s\s|[\t\n\r\f\v]/;

function canonicalHeaderValue(value: string | string[]): string {
  const trimAll = (v: string) => {
    const t = v.trim();
    return NEEDS_FOLDING.test(t) ? t.replace(/\s+/g, ' ') : t;
  };
  return Array.isArray(value) ? value.map(trimAll).join(',') : trimAll(value);
}

/** yyyyMMddTHHmmssZ of an instant (milliseconds dropped). */
function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

/** Milliseconds of a yyyyMMddTHHmmssZ stamp, or NaN when it is not one (including impossible dates). */
function parseAmzDate(stamp: string): number {
  if (stamp === lastStamp.text) return lastStamp.ms;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return NaN;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (formatAmzDate(ms) !== stamp) return NaN;
  lastStamp = { text: stamp, ms };
  return ms;
}

/** Requests signed within the same second share their stamp: the last one parsed is remembered. */
let lastStamp = { text: '', ms: NaN };

function skewText(ms: number): string {
  return ms % 60000 === 0 ? `${ms / 60000} min` : `${ms / 1000} sec`;
}

/** 'x-amz-target' -> 'X-Amz-Target', the spelling AWS uses when naming headers in messages. */
function displayName(header: string): string {
  return header.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** The Authorization header's algorithm and key=value parameters, split on commas and whitespace as AWS does. */
/** The shape every SDK sends; anything else takes the general parser below. */
const USUAL_AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^\s,=]+), ?SignedHeaders=([^\s,=]+), ?Signature=([^\s,=]+)$/;

function parseAuthorization(header: string): { algorithm: string; params: Map<string, string> } {
  const usual = USUAL_AUTHORIZATION.exec(header);
  if (usual) {
    return {
      algorithm: ALGORITHM,
      params: new Map([['Credential', usual[1]], ['SignedHeaders', usual[2]], ['Signature', usual[3]]]),
    };
  }
  const trimmed = header.trim();
  const space = trimmed.search(/\s/);
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  const params = new Map<string, string>();
  if (space >= 0) {
    for (const token of trimmed.slice(space).split(/[\s,]+/)) {
      if (!token) continue;
      const eq = token.indexOf('=');
      if (eq < 0) {
        throw incomplete(`'${token}' not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'.`);
      }
      const key = token.slice(0, eq);
      if (!params.has(key)) params.set(key, token.slice(eq + 1));
    }
  }
  return { algorithm, params };
}

/** Creates a verifier; derived signing keys are cached in a small LRU map keyed by key id, secret and scope. */
export function createSigV4Verifier(opts: SigV4Options): SigV4Verifier {
  const now = opts.now ?? Date.now;
  const maxSkewMs = opts.maxSkewMs ?? DEFAULT_SKEW_MS;
  const services = new Set(opts.services);
  const keyCache = new Map<string, { secret: string; key: HmacKey }>();

  function signingKey(accessKeyId: string, secret: string, date: string, region: string, service: string): HmacKey {
    // Keyed without the secret (no per-request concatenation of it); the secret is compared instead.
    const cacheKey = accessKeyId + '/' + date + '/' + region + '/' + service;
    const cached = keyCache.get(cacheKey);
    if (cached && cached.secret === secret) return cached.key;
    const key = hmacKey(hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), TERMINATOR));
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(cacheKey, { secret, key });
    return key;
  }


  /** The headers by lower-cased name (node's are lower-cased already: then no copy is made). */
  function lowerCased(raw: IncomingSignedRequest['headers']): { get(n: string): string | string[] | undefined; has(n: string): boolean } {
    let lower = true;
    for (const name in raw) {
      if (name !== name.toLowerCase()) {
        lower = false;
        break;
      }
    }
    if (lower) {
      return {
        get: (n) => (Object.hasOwn(raw, n) ? raw[n] : undefined),
        has: (n) => Object.hasOwn(raw, n) && raw[n] !== undefined,
      };
    }
    const m = new Map<string, string | string[]>();
    for (const name of Object.keys(raw)) {
      const value = raw[name];
      if (value !== undefined) m.set(name.toLowerCase(), value);
    }
    return m;
  }

  const configured = opts.requiredSignedHeaders?.map((h) => h.toLowerCase());
  const requiredCache = new Map<number, readonly string[]>();
  /** The headers that must be signed for this shape of request (computed once per shape). */
  function requiredFor(dateHeader: string, hasTarget: boolean, hasToken: boolean): readonly string[] {
    const k = (dateHeader === 'date' ? 4 : 0) + (hasTarget ? 2 : 0) + (hasToken ? 1 : 0);
    let list = requiredCache.get(k);
    if (!list) {
      const base = configured ?? ['host', 'x-amz-date', ...(hasTarget ? ['x-amz-target'] : [])];
      list = base.map((h) => (h === 'x-amz-date' ? dateHeader : h));
      if (hasToken) list = [...list, 'x-amz-security-token'];
      requiredCache.set(k, list);
    }
    return list;
  }

  function verify(req: IncomingSignedRequest, service: string): { accessKeyId: string } {
    const headers = lowerCased(req.headers);
    const single = (name: string): string | undefined => {
      const v = headers.get(name);
      return Array.isArray(v) ? v[0] : v;
    };

    const authorization = single('authorization');
    if (authorization === undefined || authorization.trim() === '') {
      throw new ServiceError('MissingAuthenticationTokenException', SigV4Messages.missingToken, 400);
    }
    const { algorithm, params } = parseAuthorization(authorization);
    const credential = params.get('Credential') ?? '';
    const signedHeadersParam = params.get('SignedHeaders') ?? '';
    const signature = params.get('Signature') ?? '';
    const dateHeader = headers.has('x-amz-date') ? 'x-amz-date' : 'date';
    const stamp = single(dateHeader);

    let missing = '';
    if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
    if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
    if (!signedHeadersParam) missing += "Authorization header requires 'SignedHeaders' parameter. ";
    if (stamp === undefined) missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
    if (missing || stamp === undefined) throw incomplete(`${missing}Authorization=${authorization}`);

    const requestMs = parseAmzDate(stamp);
    if (Number.isNaN(requestMs)) {
      throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${stamp}'. See http://en.wikipedia.org/wiki/ISO_8601`);
    }
    const nowMs = now();
    const skew = requestMs < nowMs - maxSkewMs || requestMs > nowMs + maxSkewMs ? skewText(maxSkewMs) : '';
    if (requestMs < nowMs - maxSkewMs) {
      throw invalid(`Signature expired: ${stamp} is now earlier than ${formatAmzDate(nowMs - maxSkewMs)} (${formatAmzDate(nowMs)} - ${skew}.)`);
    }
    if (requestMs > nowMs + maxSkewMs) {
      throw invalid(`Signature not yet current: ${stamp} is still later than ${formatAmzDate(nowMs + maxSkewMs)} (${formatAmzDate(nowMs)} + ${skew}.)`);
    }

    const signedNames = signedHeadersParam.toLowerCase().split(';');
    const required = requiredFor(dateHeader, headers.has('x-amz-target'), headers.has('x-amz-security-token'));
    for (const name of required) {
      if (signedNames.includes(name)) continue;
      throw invalid(name === 'host' ? SigV4Messages.hostNotSigned : `'${displayName(name)}' must be a 'SignedHeader' in the AWS Authorization.`);
    }
    for (const name of signedNames) {
      if (!headers.has(name)) throw incomplete(`'${name}' is named as a SignedHeader, but it does not exist in the HTTP request.`);
    }

    if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}' (only ${ALGORITHM} for now).`);
    const scope = credential.replace(/\/+$/, '').split('/');
    if (scope.length !== 5) {
      throw incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
    }
    const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scope;
    const scopeErrors: string[] = [];
    if (scopeRegion !== opts.region) scopeErrors.push(`Credential should be scoped to a valid region, not '${scopeRegion}'.`);
    if (scopeService !== service || !services.has(service)) scopeErrors.push(`Credential should be scoped to correct service: '${service}'.`);
    if (terminator !== TERMINATOR) scopeErrors.push(`Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`);
    if (scopeDate !== stamp.slice(0, 8)) {
      scopeErrors.push(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${stamp.slice(0, 8)}', from '${stamp}'.`,
      );
    }
    if (scopeErrors.length > 0) throw invalid(scopeErrors.join(' '));

    // From here on a known and an unknown key id do the same work: the unknown one signs with a dummy secret.
    const secret = opts.lookupSecret(accessKeyId);
    const key = secret === undefined
      ? signingKey('', DUMMY_SECRET, scopeDate, scopeRegion, scopeService)
      : signingKey(accessKeyId, secret, scopeDate, scopeRegion, scopeService);
    const payloadHash = sha256Hex(req.body);
    const { path, query } = splitTarget(req.url);
    const uris = canonicalUris(path);
    const rest = [
      canonicalQuery(query),
      ...signedNames.map((name) => `${name}:${canonicalHeaderValue(headers.get(name) as string | string[])}`),
      '',
      signedNames.join(';'),
      payloadHash,
    ].join('\n');
    const credentialScope = `${scopeDate}/${scopeRegion}/${scopeService}/${TERMINATOR}`;
    const expectedFor = (uri: string) =>
      hmacWith(key, `${ALGORITHM}\n${stamp}\n${credentialScope}\n${sha256Hex(`${req.method}\n${uri}\n${rest}`)}`);

    const wellFormed = /^[0-9a-fA-F]{64}$/.test(signature);
    const given = wellFormed ? Buffer.from(signature, 'hex') : Buffer.alloc(32);
    let matches = timingSafeEqual(expectedFor(uris.normalized), given) && wellFormed;
    if (!matches && uris.raw !== uris.normalized) matches = timingSafeEqual(expectedFor(uris.raw), given) && wellFormed;

    if (secret === undefined) throw new ServiceError('UnrecognizedClientException', SigV4Messages.unrecognizedClient, 400);
    const declaredHash = single('x-amz-content-sha256');
    if (declaredHash !== undefined && declaredHash.trim().toLowerCase() !== payloadHash) matches = false;
    if (!matches) throw invalid(SigV4Messages.signatureMismatch);
    return { accessKeyId };
  }

  return { verify };
}
