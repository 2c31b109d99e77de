import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { sdkSigner } from '../../test/helpers/raw.js';
import { ServiceError } from '../errors.js';
import { createSigV4Verifier, SigV4Messages, type IncomingSignedRequest, type SigV4Options } from './sigv4.js';

const AKID = 'AKIALOCKSTEPTEST0001';
const SECRET = 'lockstepTestSecretKey/0123456789+abcdefgh';
const REGION = 'us-east-1';
const HOST = '127.0.0.1:8400';
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const MISMATCH = SigV4Messages.signatureMismatch;

interface SignInput {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  at?: number;
  region?: string;
  service?: string;
  akid?: string;
  secret?: string;
  applyChecksum?: boolean;
  unsignable?: string[];
}

/** Signs with @smithy/signature-v4 (the JS SDK's signer) and returns the request as the server would see it. */
async function smithySign(input: SignInput): Promise<IncomingSignedRequest> {
  const signer = sdkSigner({
    credentials: { accessKeyId: input.akid ?? AKID, secretAccessKey: input.secret ?? SECRET },
    region: input.region ?? REGION,
    service: input.service ?? 'secretsmanager',
    applyChecksum: input.applyChecksum ?? false,
  });
  const body = input.body ?? '';
  const path = input.path ?? '/';
  const query = input.query ?? {};
  const signed = await signer.sign(
    {
      method: input.method ?? 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8400,
      path,
      query,
      headers: { host: HOST, ...(input.headers ?? {}) },
      body: input.body === undefined ? undefined : body,
    },
    { signingDate: new Date(input.at ?? T0), unsignableHeaders: new Set(input.unsignable ?? []) },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  const qs = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return { method: signed.method, url: qs ? `${path}?${qs}` : path, headers, body: Buffer.from(body) };
}

/** A Secrets Manager style call: POST / with x-amz-target and a JSON body. */
function smCall(extra: Partial<SignInput> = {}): Promise<IncomingSignedRequest> {
  return smithySign({
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
    body: JSON.stringify({ SecretId: 'prod/db' }),
    ...extra,
  });
}

function verifier(over: Partial<SigV4Options> = {}) {
  return createSigV4Verifier({
    region: REGION,
    services: ['secretsmanager', 'lambda'],
    lookupSecret: (id) => (id === AKID ? SECRET : undefined),
    now: () => T0,
    ...over,
  });
}

const seenMessages: string[] = [];

/** Asserts verify throws ServiceError with this code (and message), status 400, and no secret in the text. */
function rejects(req: IncomingSignedRequest, code: string, message?: string, over: Partial<SigV4Options> = {}, service = 'secretsmanager') {
  let caught: unknown;
  try {
    verifier(over).verify(req, service);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ServiceError, `expected a ServiceError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message !== undefined) assert.equal(caught.message, message);
  assert.equal(caught.status, 400);
  assert.ok(!caught.message.includes(SECRET), 'secret key leaked into the message');
  seenMessages.push(caught.message);
}

function withHeaders(req: IncomingSignedRequest, change: Record<string, string | string[] | undefined>): IncomingSignedRequest {
  return { ...req, headers: { ...req.headers, ...change } };
}

function authParts(req: IncomingSignedRequest): { credential: string; signedHeaders: string; signature: string } {
  const m = /Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(String(req.headers.authorization));
  assert.ok(m, 'unexpected Authorization shape');
  return { credential: m[1], signedHeaders: m[2], signature: m[3] };
}

test('a POST / signed by @smithy/signature-v4 with x-amz-target and a JSON body verifies', async () => {
  const req = await smCall();
  assert.deepEqual(verifier().verify(req, 'secretsmanager'), { accessKeyId: AKID });
  assert.match(authParts(req).signedHeaders, /x-amz-target/);
});

test('a signed x-amz-content-sha256 that matches the body verifies', async () => {
  const req = await smCall({ applyChecksum: true });
  assert.ok(req.headers['x-amz-content-sha256']);
  assert.equal(verifier().verify(req, 'secretsmanager').accessKeyId, AKID);
});

test('GET with a query and a path that needs encoding verifies (double-encoded path, encoded query)', async () => {
  const req = await smithySign({
    method: 'GET',
    path: '/2015-03-31/functions/my%20fn/invocations',
    query: { Qualifier: '$LATEST' },
    service: 'lambda',
  });
  assert.equal(req.url, '/2015-03-31/functions/my%20fn/invocations?Qualifier=%24LATEST');
  assert.equal(verifier().verify(req, 'lambda').accessKeyId, AKID);
  // The same resource with the query character left unencoded normalises to the same canonical query.
  assert.equal(verifier().verify({ ...req, url: '/2015-03-31/functions/my%20fn/invocations?Qualifier=$LATEST' }, 'lambda').accessKeyId, AKID);
  // A path re-encoded on the way (escaped unreserved characters, lower-case hex) is decoded and encoded again.
  const reencoded = '/2015-03-31/functions/my%20f%6E/invocation%73?Qualifier=%24LATEST';
  assert.equal(verifier().verify({ ...req, url: reencoded }, 'lambda').accessKeyId, AKID);
  rejects({ ...req, url: '/2015-03-31/functions/my%20fm/invocations?Qualifier=%24LATEST' }, 'InvalidSignatureException', MISMATCH, {}, 'lambda');
  rejects({ ...req, url: '/2015-03-31/functions/my%20fn/invocations?Qualifier=1' }, 'InvalidSignatureException', MISMATCH, {}, 'lambda');
});

test('paths with dot segments, repeated slashes and several query values verify', async () => {
  const req = await smithySign({
    method: 'GET',
    path: '/a/./b/../c//d%3Ae/',
    query: { b: 'x y', a: '', 'z~': 'ä' },
    service: 'lambda',
  });
  assert.equal(verifier().verify(req, 'lambda').accessKeyId, AKID);
  assert.equal(verifier().verify({ ...req, url: req.url.replace('/a/./b/../c//', '/a/c/') }, 'lambda').accessKeyId, AKID);
});

test('the Authorization parts may come in any order with any whitespace after the commas', async () => {
  const req = await smCall();
  const { credential, signedHeaders, signature } = authParts(req);
  for (const auth of [
    `AWS4-HMAC-SHA256 Signature=${signature},SignedHeaders=${signedHeaders},Credential=${credential}`,
    `AWS4-HMAC-SHA256  SignedHeaders=${signedHeaders},\tCredential=${credential} ,  Signature=${signature}`,
  ]) {
    assert.equal(verifier().verify(withHeaders(req, { authorization: auth }), 'secretsmanager').accessKeyId, AKID);
  }
});

test('a request signed by botocore (different header set, session token) verifies', () => {
  const script = `
import json, sys, botocore.auth as a, botocore.awsrequest as r, botocore.credentials as c
spec = json.loads(sys.argv[1])
req = r.AWSRequest(method=spec['method'], url=spec['url'], data=spec['body'].encode(), headers=spec['headers'])
a.SigV4Auth(c.Credentials(spec['akid'], spec['secret'], spec.get('token')), spec['service'], 'us-east-1').add_auth(req)
print(json.dumps(dict(req.headers.items())))
`;
  const cases = [
    {
      method: 'POST', url: `http://${HOST}/`, service: 'secretsmanager', body: '{"SecretId":"prod/db"}',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'secretsmanager.GetSecretValue', 'User-Agent': 'Boto3/test' },
    },
    {
      method: 'POST', url: `http://${HOST}/`, service: 'secretsmanager', body: '{}', token: 'FwoGZXIvYXdzEXAMPLETOKEN',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'secretsmanager.ListSecrets' },
    },
    {
      method: 'GET', url: `http://${HOST}/2015-03-31/functions/my%20fn/invocations?Qualifier=%24LATEST`, service: 'lambda', body: '',
      headers: {},
    },
  ];
  for (const spec of cases) {
    const run = spawnSync('python3', ['-c', script, JSON.stringify({ ...spec, akid: AKID, secret: SECRET })], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const signed = JSON.parse(run.stdout) as Record<string, string>;
    const headers: Record<string, string> = { host: HOST, 'content-length': String(Buffer.byteLength(spec.body)) };
    for (const [k, v] of Object.entries(signed)) headers[k.toLowerCase()] = v;
    const at = Date.parse(headers['x-amz-date'].replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    const req: IncomingSignedRequest = { method: spec.method, url: spec.url.slice(`http://${HOST}`.length), headers, body: Buffer.from(spec.body) };
    assert.equal(verifier({ now: () => at + 1000 }).verify(req, spec.service).accessKeyId, AKID);
    if (spec.token) assert.match(headers.authorization, /x-amz-security-token/);
    rejects({ ...req, body: Buffer.from(spec.body + ' ') }, 'InvalidSignatureException', MISMATCH, { now: () => at }, spec.service);
  }
});

// Vectors from AWS's published SigV4 test suite (aws-sig-v4-test-suite, 2015-08-30), expected signatures as
// quoted by SDK test fixtures (smithy-typescript suite.fixture, aws-c-auth v4 suite).
const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SUITE_DATE = '20150830T123600Z';
const vectors: { name: string; method: string; url: string; headers?: Record<string, string | string[]>; body?: string; signature: string }[] = [
  { name: 'get-vanilla', method: 'GET', url: '/', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'get-vanilla-query-order-key-case', method: 'GET', url: '/?Param2=value2&Param1=value1', signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
  {
    name: 'post-x-www-form-urlencoded', method: 'POST', url: '/', body: 'Param1=value1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-x-www-form-urlencoded-parameters', method: 'POST', url: '/', body: 'Param1=value1',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf8' },
    signature: '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
  },
  {
    name: 'get-header-value-trim', method: 'GET', url: '/', headers: { 'my-header1': ' value1', 'my-header2': ' "a   b   c"' },
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'get-header-value-order', method: 'GET', url: '/', headers: { 'my-header1': ['value4', 'value1', 'value3', 'value2'] },
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'get-header-key-duplicate', method: 'GET', url: '/', headers: { 'my-header1': ['value2', 'value2', 'value1'] },
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  { name: 'post-header-key-sort', method: 'POST', url: '/', headers: { 'my-header1': 'value1' }, signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c' },
  { name: 'post-vanilla', method: 'POST', url: '/', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
  { name: 'post-vanilla-query', method: 'POST', url: '/?Param1=value1', signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11' },
  { name: 'get-unreserved', method: 'GET', url: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f' },
  {
    name: 'get-vanilla-query-unreserved', method: 'GET',
    url: '/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  { name: 'get-utf8', method: 'GET', url: '/ሴ', signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85' },
  { name: 'get-vanilla-utf8-query', method: 'GET', url: '/?ሴ=bar', signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04' },
  { name: 'get-space', method: 'GET', url: '/example space/', signature: '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741' },
];

function suiteRequest(v: (typeof vectors)[number], signature = v.signature): IncomingSignedRequest {
  const extra = v.headers ?? {};
  const signedHeaders = ['host', ...Object.keys(extra), 'x-amz-date'].sort().join(';');
  return {
    method: v.method,
    url: v.url,
    body: Buffer.from(v.body ?? ''),
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': SUITE_DATE,
      ...extra,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
  };
}

const suiteOptions: Partial<SigV4Options> = {
  services: ['service'],
  lookupSecret: (id) => (id === 'AKIDEXAMPLE' ? SUITE_SECRET : undefined),
  now: () => Date.UTC(2015, 7, 30, 12, 36, 0),
  requiredSignedHeaders: ['host', 'x-amz-date'],
};

for (const v of vectors) {
  test(`AWS SigV4 test suite: ${v.name}`, () => {
    assert.equal(verifier(suiteOptions).verify(suiteRequest(v), 'service').accessKeyId, 'AKIDEXAMPLE');
    const flipped = v.signature.slice(0, -1) + (v.signature.endsWith('0') ? '1' : '0');
    rejects(suiteRequest(v, flipped), 'InvalidSignatureException', MISMATCH, suiteOptions, 'service');
  });
}

test('tampered body, signed header, x-amz-target and method are rejected with AWS text', async () => {
  const req = await smCall();
  rejects({ ...req, body: Buffer.from(JSON.stringify({ SecretId: 'prod/other' })) }, 'InvalidSignatureException', MISMATCH);
  rejects(withHeaders(req, { 'content-type': 'application/json' }), 'InvalidSignatureException', MISMATCH);
  rejects(withHeaders(req, { 'x-amz-target': 'secretsmanager.DeleteSecret' }), 'InvalidSignatureException', MISMATCH);
  rejects({ ...req, method: 'PUT' }, 'InvalidSignatureException', MISMATCH);
  rejects({ ...req, url: '/?x=1' }, 'InvalidSignatureException', MISMATCH);
  rejects(withHeaders(req, { host: 'evil.example:8400' }), 'InvalidSignatureException', MISMATCH);
});

test('the correct signature of a tampered request never appears in the error', async () => {
  const tamperedBody = JSON.stringify({ SecretId: 'prod/other' });
  const honest = await smCall({ body: tamperedBody });
  const req = await smCall();
  rejects({ ...req, body: Buffer.from(tamperedBody) }, 'InvalidSignatureException', MISMATCH);
  const message = seenMessages[seenMessages.length - 1];
  assert.ok(!message.includes(authParts(honest).signature));
  assert.ok(!message.includes(SECRET));
});

test('an unknown access key id is UnrecognizedClientException, after the same signing work', async () => {
  const looked: string[] = [];
  const req = await smCall({ akid: 'AKIAUNKNOWN000000000' });
  rejects(req, 'UnrecognizedClientException', 'The security token included in the request is invalid.', {
    lookupSecret: (id) => (looked.push(id), undefined),
  });
  assert.deepEqual(looked, ['AKIAUNKNOWN000000000']);
  // Even a garbage signature from an unknown key reports the key, not the signature (as AWS orders its checks).
  const { credential, signedHeaders } = authParts(req);
  rejects(
    withHeaders(req, { authorization: `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=zz` }),
    'UnrecognizedClientException',
  );
});

test('a missing Authorization header is MissingAuthenticationTokenException', async () => {
  const req = await smCall();
  rejects(withHeaders(req, { authorization: undefined }), 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  rejects(withHeaders(req, { authorization: '   ' }), 'MissingAuthenticationTokenException', 'Missing Authentication Token');
});

test('malformed Authorization headers are IncompleteSignatureException with AWS wording', async () => {
  const req = await smCall();
  rejects(
    withHeaders(req, { authorization: 'AWS4-HMAC-SHA256', 'x-amz-date': undefined }),
    'IncompleteSignatureException',
    "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
      "Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a " +
      "'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256",
  );
  rejects(
    withHeaders(req, { authorization: 'AWS4-HMAC-SHA256 Credential=ABCDEF' }),
    'IncompleteSignatureException',
    "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. " +
      'Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF',
  );
  rejects(
    withHeaders(req, { authorization: 'AWS4-HMAC-SHA256 Credential=AKID /20240501/us-east-1/secretsmanager/aws4_request' }),
    'IncompleteSignatureException',
    "'/20240501/us-east-1/secretsmanager/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: " +
      "'AWS4-HMAC-SHA256 Credential=AKID /20240501/us-east-1/secretsmanager/aws4_request'.",
  );
  const { credential, signedHeaders, signature } = authParts(req);
  rejects(
    withHeaders(req, { authorization: `AWS4-HMAC-SHA512 Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${signature}` }),
    'IncompleteSignatureException',
    "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now).",
  );
  rejects(
    withHeaders(req, { authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20240501/us-east-1, SignedHeaders=${signedHeaders}, Signature=${signature}` }),
    'IncompleteSignatureException',
    `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${AKID}/20240501/us-east-1'`,
  );
  rejects(
    withHeaders(req, { authorization: `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signedHeaders};x-missing, Signature=${signature}` }),
    'IncompleteSignatureException',
    "'x-missing' is named as a SignedHeader, but it does not exist in the HTTP request.",
  );
});

test('a missing or malformed date is IncompleteSignatureException', async () => {
  const req = await smCall();
  rejects(
    withHeaders(req, { 'x-amz-date': undefined }),
    'IncompleteSignatureException',
    `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${req.headers.authorization}`,
  );
  rejects(
    withHeaders(req, { 'x-amz-date': '2024-05-01T12:00:00Z' }),
    'IncompleteSignatureException',
    "Date must be in ISO-8601 'basic format'. Got '2024-05-01T12:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
  );
  rejects(withHeaders(req, { 'x-amz-date': '20240231T120000Z' }), 'IncompleteSignatureException');
});

test('a credential scoped to the wrong region, service, terminator or date is rejected with AWS text', async () => {
  rejects(await smCall({ region: 'eu-west-1' }), 'InvalidSignatureException', "Credential should be scoped to a valid region, not 'eu-west-1'.");
  rejects(await smCall({ service: 'kms' }), 'InvalidSignatureException', "Credential should be scoped to correct service: 'secretsmanager'.");
  // Signed for lambda (an accepted name) but presented to the secretsmanager endpoint.
  rejects(await smCall({ service: 'lambda' }), 'InvalidSignatureException', "Credential should be scoped to correct service: 'secretsmanager'.");
  // A name not in `services` fails even when the caller asks for it.
  rejects(await smCall({ service: 'kms' }), 'InvalidSignatureException', "Credential should be scoped to correct service: 'kms'.", {}, 'kms');
  const req = await smCall();
  const { signedHeaders, signature } = authParts(req);
  rejects(
    withHeaders(req, { authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20240501/us-west-2/sqs/aws5_request, SignedHeaders=${signedHeaders}, Signature=${signature}` }),
    'InvalidSignatureException',
    "Credential should be scoped to a valid region, not 'us-west-2'. Credential should be scoped to correct service: 'secretsmanager'. " +
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
  );
  rejects(
    withHeaders(req, { 'x-amz-date': '20240502T000100Z' }),
    'InvalidSignatureException',
    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240501' != '20240502', from '20240502T000100Z'.",
    { now: () => Date.UTC(2024, 4, 2, 0, 1, 0) },
  );
});

test('clock skew over five minutes is rejected both ways with the exact AWS text; five minutes is accepted', async () => {
  const at = Date.UTC(2013, 4, 24, 0, 0, 0);
  const old = await smCall({ at });
  rejects(
    old,
    'InvalidSignatureException',
    'Signature expired: 20130524T000000Z is now earlier than 20130524T000500Z (20130524T001000Z - 5 min.)',
    { now: () => Date.UTC(2013, 4, 24, 0, 10, 0) },
  );
  const future = await smCall({ at: Date.UTC(2013, 4, 24, 0, 10, 0) });
  rejects(
    future,
    'InvalidSignatureException',
    'Signature not yet current: 20130524T001000Z is still later than 20130524T000500Z (20130524T000000Z + 5 min.)',
    { now: () => at },
  );
  assert.equal(verifier({ now: () => at + 5 * 60 * 1000 }).verify(old, 'secretsmanager').accessKeyId, AKID);
  assert.equal(verifier({ now: () => at - 5 * 60 * 1000 }).verify(old, 'secretsmanager').accessKeyId, AKID);
  rejects(old, 'InvalidSignatureException', 'Signature expired: 20130524T000000Z is now earlier than 20130524T000000Z (20130524T001500Z - 15 min.)', {
    now: () => Date.UTC(2013, 4, 24, 0, 15, 0, 1),
    maxSkewMs: 15 * 60 * 1000,
  });
});

test('required headers must be signed: x-amz-target when present, host, and a security token', async () => {
  rejects(await smCall({ unsignable: ['x-amz-target'] }), 'InvalidSignatureException', "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.");
  const req = await smCall();
  const { credential, signature } = authParts(req);
  const auth = (sh: string) => `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${sh}, Signature=${signature}`;
  rejects(withHeaders(req, { authorization: auth('content-type;x-amz-date;x-amz-target') }), 'InvalidSignatureException', SigV4Messages.hostNotSigned);
  rejects(withHeaders(req, { authorization: auth('content-type;host;x-amz-target') }), 'InvalidSignatureException', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  rejects(withHeaders(req, { 'x-amz-security-token': 'TOKEN' }), 'InvalidSignatureException', "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
  const withToken = await smCall({ headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue', 'x-amz-security-token': 'TOKEN' } });
  assert.equal(verifier().verify(withToken, 'secretsmanager').accessKeyId, AKID);
  rejects(withHeaders(withToken, { 'x-amz-security-token': 'OTHER' }), 'InvalidSignatureException', MISMATCH);
  // A caller-supplied list replaces the default.
  rejects(req, 'InvalidSignatureException', "'Content-Length' must be a 'SignedHeader' in the AWS Authorization.", { requiredSignedHeaders: ['host', 'Content-Length'] });
});

test('x-amz-content-sha256 that differs from the body fails, signed or not', async () => {
  const other = createHash('sha256').update('something else').digest('hex');
  // Signed: the signer used the declared hash, the server uses the real one.
  rejects(await smCall({ headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue', 'x-amz-content-sha256': other } }), 'InvalidSignatureException', MISMATCH);
  // Unsigned, added after signing: the signature alone would match, the declared hash must still agree.
  const req = await smCall();
  rejects(withHeaders(req, { 'x-amz-content-sha256': other }), 'InvalidSignatureException', MISMATCH);
  const real = createHash('sha256').update(req.body).digest('hex');
  assert.equal(verifier().verify(withHeaders(req, { 'x-amz-content-sha256': real }), 'secretsmanager').accessKeyId, AKID);
});

test('a non-hex or wrong-length signature fails as a mismatch', async () => {
  const req = await smCall();
  const { credential, signedHeaders, signature } = authParts(req);
  const auth = (sig: string) => withHeaders(req, { authorization: `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${sig}` });
  rejects(auth('z'.repeat(64)), 'InvalidSignatureException', MISMATCH);
  rejects(auth(signature.slice(0, 62) + 'zz'), 'InvalidSignatureException', MISMATCH);
  rejects(auth(signature.slice(0, 40)), 'InvalidSignatureException', MISMATCH);
  rejects(auth(signature + '00'), 'InvalidSignatureException', MISMATCH);
  assert.equal(verifier().verify(auth(signature), 'secretsmanager').accessKeyId, AKID);
});

test('cached signing keys follow secret rotation and survive many keys', async () => {
  let secret = SECRET;
  const v = createSigV4Verifier({ region: REGION, services: ['secretsmanager'], now: () => T0, lookupSecret: (id) => (id === AKID ? secret : `s-${id}`) });
  const req = await smCall();
  assert.equal(v.verify(req, 'secretsmanager').accessKeyId, AKID);
  secret = 'rotatedSecretKey/ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  assert.throws(() => v.verify(req, 'secretsmanager'), (e: unknown) => e instanceof ServiceError && e.code === 'InvalidSignatureException');
  assert.equal(v.verify(await smCall({ secret }), 'secretsmanager').accessKeyId, AKID);
  for (let i = 0; i < 300; i++) {
    const id = `AKIAMANY${String(i).padStart(12, '0')}`;
    assert.equal(v.verify(await smCall({ akid: id, secret: `s-${id}` }), 'secretsmanager').accessKeyId, id);
  }
  assert.equal(v.verify(await smCall({ secret }), 'secretsmanager').accessKeyId, AKID);
});

test('no error message produced above contains the secret key', () => {
  assert.ok(seenMessages.length > 30);
  for (const m of seenMessages) {
    assert.ok(!m.includes(SECRET));
    assert.ok(!m.includes(SUITE_SECRET));
  }
});
