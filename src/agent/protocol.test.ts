import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PLAIN, epochSeconds, errorBody, failureAnswer, failureKind, isAnswer, isTransient, parsePathForm, parseQueryForm, secretBody,
} from './protocol.js';

test('the query form: parameters, defaults and errors as AWS answers them', () => {
  assert.deepEqual(parseQueryForm('secretId=MyTest'), { secretId: 'MyTest', refreshNow: false });
  assert.deepEqual(parseQueryForm('secretId=MyTest&versionStage=AWSPENDING&versionId=v-1&refreshNow=true'), {
    secretId: 'MyTest', versionStage: 'AWSPENDING', versionId: 'v-1', refreshNow: true,
  });
  for (const [v, want] of [['true', true], ['TRUE', true], ['1', true], ['false', false], ['FALSE', false], ['0', false]] as const) {
    assert.equal((parseQueryForm(`secretId=a&refreshNow=${v}`) as { refreshNow: boolean }).refreshNow, want, v);
  }
  assert.deepEqual(parseQueryForm('secretId=a&refreshNow=123'), { status: 400, body: 'invalid refreshNow value' });
  assert.deepEqual(parseQueryForm('secretId=a&abc=1'), { status: 400, body: 'unknown parameter: abc' });
  assert.deepEqual(parseQueryForm(''), { status: 400, body: 'missing parameter secretId' });
  assert.deepEqual(parseQueryForm('&versionId=x&versionStage=y'), { status: 400, body: 'missing parameter secretId' });
  assert.deepEqual(parseQueryForm('secretId='), { status: 400, body: 'missing parameter secretId' });
  assert.deepEqual(parseQueryForm('secretId'), { status: 400, body: 'missing parameter secretId' });
  // Form decoding: %2F is a slash, + is a space; the last repeated parameter wins.
  assert.equal((parseQueryForm('secretId=prod%2Fdb') as { secretId: string }).secretId, 'prod/db');
  assert.equal((parseQueryForm('secretId=a+b') as { secretId: string }).secretId, 'a b');
  assert.equal((parseQueryForm('secretId=a%2Bb') as { secretId: string }).secretId, 'a+b');
  assert.equal((parseQueryForm('secretId=one&secretId=two') as { secretId: string }).secretId, 'two');
  assert.equal(
    (parseQueryForm('secretId=arn%3Aaws%3Asecretsmanager%3Aus-east-1%3A123456789012%3Asecret%3Ax-AbCdEf') as { secretId: string }).secretId,
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf',
  );
});

test('the path form: the rest of the path is the secret id; secretId is not a parameter there', () => {
  assert.deepEqual(parsePathForm('/v1/MyTest', '', '/v1/'), { secretId: 'MyTest', refreshNow: false });
  assert.deepEqual(parsePathForm('/v1/My/Test', 'versionStage=AWSPENDING&refreshNow=0', '/v1/'), {
    secretId: 'My/Test', versionStage: 'AWSPENDING', refreshNow: false,
  });
  assert.deepEqual(parsePathForm('/v1/My/Test', 'versionId=11111', '/v1/'), { secretId: 'My/Test', versionId: '11111', refreshNow: false });
  assert.deepEqual(parsePathForm('/v1/', 'versionStage=x', '/v1/'), { status: 400, body: 'missing secret ID' });
  assert.deepEqual(parsePathForm('/v1/MyTest', 'versionStage=AWSPENDING&abc=1', '/v1/'), { status: 400, body: 'unknown parameter: abc' });
  assert.deepEqual(parsePathForm('/v1/MyTest', 'secretId=other', '/v1/'), { status: 400, body: 'unknown parameter: secretId' });
  assert.equal((parsePathForm('/v1/prod%2Fdb', '', '/v1/') as { secretId: string }).secretId, 'prod/db');
  assert.equal((parsePathForm('/v1/bad%zz', '', '/v1/') as { secretId: string }).secretId, 'bad%zz');
  assert.equal((parsePathForm('/otherMyTest', '', '/other') as { secretId: string }).secretId, 'MyTest', 'a prefix without a trailing slash');
  assert.equal(isAnswer(parsePathForm('/v1/', '', '/v1/')), true);
  assert.equal(isAnswer(parsePathForm('/v1/x', '', '/v1/')), false);
});

test("AWS's plain answers", () => {
  assert.deepEqual(PLAIN.badToken, { status: 403, body: 'Bad Token' });
  assert.deepEqual(PLAIN.notFound, { status: 404, body: 'Not found' });
  assert.deepEqual(PLAIN.forwarded, { status: 400, body: 'Forwarded' });
  assert.deepEqual(PLAIN.notAllowed, { status: 405, body: 'Not allowed' });
  assert.deepEqual(PLAIN.tooMany, { status: 429, body: 'Connection limit exceeded' });
  assert.equal(PLAIN.healthy, 'healthy');
});

test('CreatedDate as AWS writes it: a string of epoch seconds with the fraction, trailing zeros dropped', () => {
  assert.equal(epochSeconds(new Date(1569534789046)), '1569534789.046');
  assert.equal(epochSeconds(new Date(1569534789100)), '1569534789.1');
  assert.equal(epochSeconds(new Date(1569534789120)), '1569534789.12');
  assert.equal(epochSeconds(new Date(1569534789005)), '1569534789.005');
  assert.equal(epochSeconds(new Date(1569534789000)), '1569534789');
});

test("the secret body: GetSecretValue's fields in AWS's order, compact", () => {
  const created = new Date(1569534789046);
  const s = secretBody({
    ARN: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTest-NhBWsc', Name: 'MyTest', VersionId: 'v1',
    SecretString: 'hunter2', VersionStages: ['AWSCURRENT'], CreatedDate: created,
  });
  assert.equal(s, '{"ARN":"arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTest-NhBWsc","Name":"MyTest","VersionId":"v1",' +
    '"SecretString":"hunter2","VersionStages":["AWSCURRENT"],"CreatedDate":"1569534789.046"}');
  const bin = secretBody({ ARN: 'a', Name: 'n', VersionId: 'v', SecretBinary: Uint8Array.from([0, 1, 2, 255]), VersionStages: ['AWSPREVIOUS'] });
  assert.equal(bin, '{"ARN":"a","Name":"n","VersionId":"v","SecretBinary":"AAEC/w==","VersionStages":["AWSPREVIOUS"],"CreatedDate":null}');
  // A view into a larger buffer encodes only its own bytes.
  const big = Uint8Array.from([9, 9, 7, 8, 9]);
  assert.match(secretBody({ ARN: 'a', Name: 'n', VersionId: 'v', SecretBinary: big.subarray(2, 4), VersionStages: [] }), /"SecretBinary":"Bwg="/);
});

test("error bodies: AWS's agent's exact layout", () => {
  assert.equal(errorBody('ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
    '{"__type":"ResourceNotFoundException", "message":"Secrets Manager can\'t find the specified secret."}');
  assert.equal(errorBody('InternalFailure', 'whatever'), '{"__type":"InternalFailure"}');
  assert.equal(errorBody('AccessDeniedException', ''), '{"__type":"InternalFailure"}', 'no message: InternalFailure, as AWS');
  assert.equal(JSON.parse(errorBody('X', 'a "quoted" \\ message')).message, 'a "quoted" \\ message', 'always valid JSON');
});

test('SDK errors map to status and body as AWS maps them', () => {
  const service = Object.assign(new Error("Secrets Manager can't find the specified secret."), {
    name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 1 },
  });
  assert.deepEqual(failureAnswer(service), {
    status: 400, body: '{"__type":"ResourceNotFoundException", "message":"Secrets Manager can\'t find the specified secret."}',
  });
  const denied = Object.assign(new Error('Access to KMS is not allowed'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
  assert.equal(failureAnswer(denied).body, '{"__type":"AccessDeniedException", "message":"Access to KMS is not allowed"}');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: { attempts: 3 } });
  assert.deepEqual(failureAnswer(refused), { status: 502, body: '{"__type":"ConnectionError", "message":"Read Error"}' });
  const aggregate = Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], ''), { $metadata: {} });
  assert.equal(failureAnswer(aggregate).status, 502);
  assert.equal(failureAnswer(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).status, 502);
  // The SDK names a reset 'TimeoutError' so that it is retried: still a connection error.
  const reset = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 3 } });
  assert.deepEqual(failureAnswer(reset), { status: 502, body: '{"__type":"ConnectionError", "message":"Read Error"}' });
  assert.equal(failureAnswer(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })).status, 504);
  const timeout = Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' });
  assert.deepEqual(failureAnswer(timeout), { status: 504, body: '{"__type":"TimeoutError", "message":"Timeout"}' });
  const creds = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
  assert.deepEqual(failureAnswer(creds), { status: 500, body: '{"__type":"InternalFailure"}' });
  assert.deepEqual(failureAnswer(undefined), { status: 500, body: '{"__type":"InternalFailure"}' });
  assert.equal(failureKind(service), 'service');
  assert.equal(failureKind(refused), 'network');
  assert.equal(failureKind(timeout), 'timeout');
  assert.equal(failureKind(creds), 'internal');
});

test('transient failures: network, timeouts, throttling and server errors', () => {
  const svc = (name: string, status: number) => Object.assign(new Error('m'), { name, $metadata: { httpStatusCode: status } });
  assert.equal(isTransient(Object.assign(new Error(''), { code: 'ECONNREFUSED' })), true);
  assert.equal(isTransient(Object.assign(new Error(''), { name: 'TimeoutError' })), true);
  assert.equal(isTransient(svc('InternalServiceError', 500)), true);
  assert.equal(isTransient(svc('ThrottlingException', 400)), true);
  assert.equal(isTransient(svc('TooManyRequestsException', 429)), true);
  assert.equal(isTransient(svc('ResourceNotFoundException', 400)), false);
  assert.equal(isTransient(svc('AccessDeniedException', 400)), false);
  assert.equal(isTransient(new Error('x')), false);
});
