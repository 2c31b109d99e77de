// End-to-end with raw, hand-signed HTTP requests: what the SDK would never send. Missing
// ClientRequestToken, oversized / malformed / deeply nested / prototype-polluting bodies, unknown
// targets and wrong-typed members.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Messages } from '../src/errors.js';
import { sdkSignedPost } from './helpers/raw.js';
import { useServer } from './helpers/sdk.js';
import type { TestServer } from './helpers/server.js';

let srv: TestServer;
let sm: SecretsManagerClient;
useServer((s) => ({ srv, sm } = s));

/** Signs (SigV4, like the SDK) and POSTs a body to this file's server; see `sdkSignedPost`. */
const raw = (target: string, body: string | Buffer, opts?: { chunked?: boolean; rawTarget?: string }) =>
  sdkSignedPost(srv, target, body, opts);

const token = () => randomUUID();

/** A secret created through a raw request (so the test does not depend on the SDK for set-up). */
async function rawCreate(name: string, value = 'v'): Promise<void> {
  const r = await raw('CreateSecret', JSON.stringify({ Name: name, SecretString: value, ClientRequestToken: token() }));
  assert.equal(r.status, 200, r.body);
}

describe('ClientRequestToken is required when a value is written', () => {
  test('PutSecretValue without ClientRequestToken is InvalidRequestException and stores nothing', async () => {
    await rawCreate('token/put', 'first');
    const r = await raw('PutSecretValue', JSON.stringify({ SecretId: 'token/put', SecretString: 'second' }));
    assert.equal(r.status, 400);
    assert.equal(r.type, 'InvalidRequestException');
    assert.equal(r.json?.Message ?? r.json?.message, Messages.tokenRequired);
    const v = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'token/put', IncludeDeprecated: true }));
    assert.equal(v.Versions!.length, 1);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'token/put' }))).SecretString, 'first');
  });

  test('CreateSecret with a SecretString and no ClientRequestToken is InvalidRequestException and creates nothing', async () => {
    const r = await raw('CreateSecret', JSON.stringify({ Name: 'token/create', SecretString: 'x' }));
    assert.equal(r.status, 400);
    assert.equal(r.type, 'InvalidRequestException');
    assert.equal(r.json?.Message, Messages.tokenRequired);
    await assert.rejects(sm.send(new DescribeSecretCommand({ SecretId: 'token/create' })), { name: 'ResourceNotFoundException' });
    // Without a value no token is needed.
    const ok = await raw('CreateSecret', JSON.stringify({ Name: 'token/create-empty' }));
    assert.equal(ok.status, 200, ok.body);
  });

  test('UpdateSecret with a value and no ClientRequestToken is InvalidRequestException', async () => {
    await rawCreate('token/update', 'first');
    const r = await raw('UpdateSecret', JSON.stringify({ SecretId: 'token/update', SecretString: 'second' }));
    assert.equal(r.status, 400);
    assert.equal(r.type, 'InvalidRequestException');
    assert.equal(r.json?.Message, Messages.tokenRequired);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'token/update' }))).SecretString, 'first');
  });
});

describe('request robustness', () => {
  test('a body over 1 MiB is refused with 413 before parsing, and nothing is stored', async () => {
    const big = JSON.stringify({ Name: 'robust/big', SecretString: 'x'.repeat(1024 * 1024 + 16), ClientRequestToken: token() });
    const r = await raw('CreateSecret', big);
    assert.equal(r.status, 413);
    await assert.rejects(sm.send(new DescribeSecretCommand({ SecretId: 'robust/big' })), { name: 'ResourceNotFoundException' });
    // The server still answers.
    const ok = await raw('ListSecrets', '{}');
    assert.equal(ok.status, 200);
  });

  test('a chunked body (no Content-Length) over 1 MiB is refused with 413 too', async () => {
    const big = JSON.stringify({ Name: 'robust/big-chunked', SecretString: 'y'.repeat(1024 * 1024 + 16), ClientRequestToken: token() });
    const r = await raw('CreateSecret', big, { chunked: true });
    assert.equal(r.status, 413);
    await assert.rejects(sm.send(new DescribeSecretCommand({ SecretId: 'robust/big-chunked' })), { name: 'ResourceNotFoundException' });
  });

  test('a body of exactly 1 MiB passes the size gate (and fails validation instead)', async () => {
    const head = JSON.stringify({ Name: 'robust/edge', ClientRequestToken: token(), SecretString: '' });
    const pad = 1024 * 1024 - Buffer.byteLength(head);
    const body = head.slice(0, -2) + 'z'.repeat(pad) + '"}';
    assert.equal(Buffer.byteLength(body), 1024 * 1024);
    const r = await raw('CreateSecret', body);
    assert.equal(r.status, 400, r.body.slice(0, 200));
    assert.equal(r.type, 'ValidationException');
  });

  test('malformed JSON is 400 SerializationException', async () => {
    for (const body of ['{"Name": ', '{Name: "x"}', '[1, 2', '"just a string', '{"a":1}}', '[]', '42', '"text"']) {
      const r = await raw('CreateSecret', body);
      assert.equal(r.status, 400, `body ${body}`);
      assert.equal(r.type, 'SerializationException', `body ${body}: ${r.body}`);
    }
  });

  test('a body that is not UTF-8 is 400 SerializationException', async () => {
    const r = await raw('CreateSecret', Buffer.from([0x7b, 0x22, 0x4e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    assert.equal(r.status, 400);
    assert.equal(r.type, 'SerializationException', r.body);
  });

  test('an empty body is an empty request; unknown members are ignored', async () => {
    const r = await raw('ListSecrets', '');
    assert.equal(r.status, 200, r.body);
    assert.ok(Array.isArray(r.json?.SecretList));
    const c = await raw('CreateSecret', JSON.stringify({ Name: 'robust/extra', Bogus: 1, Nested: { x: [1, 2] } }));
    assert.equal(c.status, 200, c.body);
    assert.equal(c.json?.Name, 'robust/extra');
  });

  test('a body nested 10,000 deep is 400, and the server keeps answering', async () => {
    const deepObject = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const deepArray = '{"Filters":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
    for (const [op, body] of [['CreateSecret', deepObject], ['ListSecrets', deepArray]] as const) {
      const r = await raw(op, body);
      assert.equal(r.status, 400);
      assert.equal(r.type, 'SerializationException', r.body);
    }
    const ok = await raw('ListSecrets', '{}');
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(ok.json?.SecretList));
  });

  test('an unknown X-Amz-Target is UnknownOperationException', async () => {
    for (const t of ['secretsmanager.NoSuchOperation', 'secretsmanager.', 'kms.CreateKey', 'secretsmanager.constructor', 'secretsmanager.__proto__']) {
      const r = await raw('', '{}', { rawTarget: t });
      assert.equal(r.status, 400, `target ${t}`);
      assert.equal(r.type, 'UnknownOperationException', `target ${t}: ${r.body}`);
    }
  });

  test('"__proto__" members do not pollute Object.prototype, and the request still works', async () => {
    const body = `{"Name":"robust/proto","SecretString":"p","ClientRequestToken":"${token()}",` +
      `"__proto__":{"polluted":true},"Tags":[{"Key":"k","Value":"v","__proto__":{"polluted":true}}]}`;
    const r = await raw('CreateSecret', body);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
    assert.ok(r.status === 200 || (r.status === 400 && r.type !== undefined), `unclean answer ${r.status}: ${r.body}`);
    if (r.status === 200) {
      const d = await sm.send(new DescribeSecretCommand({ SecretId: 'robust/proto' }));
      assert.deepEqual(d.Tags, [{ Key: 'k', Value: 'v' }]);
    }
    // Tags as an object holding __proto__ is a wrong type, not a pollution vector.
    const r2 = await raw('CreateSecret', `{"Name":"robust/proto2","Tags":{"__proto__":{"polluted":true}}}`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
    assert.equal(r2.status, 400);
    assert.equal(r2.type, 'SerializationException');
    // And a listing filter with constructor/prototype keys.
    const r3 = await raw('ListSecrets', '{"Filters":[{"Key":"name","Values":["robust/"],"constructor":{"prototype":{"polluted":true}}}]}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
    assert.ok(r3.status === 200 || r3.status === 400, r3.body);
  });

  test('a wrong-typed member is SerializationException', async () => {
    const cases: [string, string][] = [
      ['ListSecrets', '{"MaxResults":"ten"}'],
      ['ListSecrets', '{"IncludePlannedDeletion":"yes"}'],
      ['CreateSecret', '{"Name":12345}'],
      ['CreateSecret', '{"Name":["a"]}'],
      ['CreateSecret', '{"Name":"robust/typed","Tags":"k=v"}'],
      ['GetSecretValue', '{"SecretId":{"a":1}}'],
    ];
    for (const [op, body] of cases) {
      const r = await raw(op, body);
      assert.equal(r.status, 400, `${op} ${body}`);
      assert.equal(r.type, 'SerializationException', `${op} ${body}: ${r.body}`);
    }
    const r = await raw('ListSecrets', '{"MaxResults":"ten"}');
    assert.match(String(r.json?.Message), /can not be converted to an Integer/);
  });

  test('a bad signature is refused and does not reach the operation', async () => {
    const url = new URL(srv.endpoint);
    const res = await fetch(srv.endpoint + '/', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.CreateSecret',
        'x-amz-date': '20240101T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=${srv.credentials.accessKeyId}/20240101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
        host: url.host,
      },
      body: JSON.stringify({ Name: 'robust/unsigned' }),
    });
    assert.ok(res.status === 400 || res.status === 403, `status ${res.status}`);
    await assert.rejects(sm.send(new DescribeSecretCommand({ SecretId: 'robust/unsigned' })), { name: 'ResourceNotFoundException' });
  });
});
