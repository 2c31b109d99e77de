import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startServer, type TestServer } from './helpers/server.js';
import { sdkSigner } from './helpers/raw.js';
import { cleanupProcesses, spawnServer, tempDir, type ServerProcess } from './helpers/process.js';

/*
 * Access keys at run time: a key created through the API works at once, one deactivated or
 * deleted stops at once in the process that changed it and within about a second in another
 * process on the same data directory; temporary credentials need their session token and stop at
 * their expiry (a server with a controllable clock).
 */

after(cleanupProcesses);

const ACCOUNT = '123456789012';

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * One signed request on a fresh connection (so that each may reach another worker): a query-protocol
 * call to IAM/STS (`params`), or Secrets Manager's ListSecrets. `at` is the signing time.
 */
async function call(endpoint: string, creds: Keys, what: { service: 'iam' | 'sts'; params: Record<string, string> } | 'ListSecrets', at?: number): Promise<Answer> {
  const url = new URL(endpoint);
  const service = what === 'ListSecrets' ? 'secretsmanager' : what.service;
  const body = what === 'ListSecrets'
    ? '{}'
    : new URLSearchParams({ Version: what.service === 'iam' ? '2010-05-08' : '2011-06-15', ...what.params }).toString();
  const headers: Record<string, string> = what === 'ListSecrets'
    ? { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets' }
    : { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
  const signed = await sdkSigner({ credentials: creds, region: 'us-east-1', service }).sign(
    { method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers, body },
    at === undefined ? {} : { signingDate: new Date(at) },
  );
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: Number(url.port), method: 'POST', path: '/', agent: false, headers: { ...signed.headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/** The error code of an answer: the XML Code, or the JSON __type. */
function codeOf(a: Answer): string | undefined {
  if (a.body.startsWith('{')) return (JSON.parse(a.body) as { __type?: string }).__type;
  return tag(a.body, 'Code');
}

async function ok(a: Promise<Answer>): Promise<string> {
  const r = await a;
  assert.equal(r.status, 200, r.body);
  return r.body;
}

async function iamOk(endpoint: string, root: Keys, params: Record<string, string>): Promise<string> {
  return ok(call(endpoint, root, { service: 'iam', params }));
}

/** The inline policy that lets the probes below list secrets (principals other than root are under policies). */
const LIST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] });

/** Creates a user allowed to ListSecrets, with one key, through the API; returns the key. */
async function userWithKey(endpoint: string, root: Keys, name: string): Promise<Keys> {
  await iamOk(endpoint, root, { Action: 'CreateUser', UserName: name });
  await iamOk(endpoint, root, { Action: 'PutUserPolicy', UserName: name, PolicyName: 'list', PolicyDocument: LIST });
  const xml = await iamOk(endpoint, root, { Action: 'CreateAccessKey', UserName: name });
  return { accessKeyId: tag(xml, 'AccessKeyId')!, secretAccessKey: tag(xml, 'SecretAccessKey')! };
}

describe('one server: keys change at once', () => {
  let server: TestServer;
  let offset = 0;
  before(async () => {
    server = await startServer({ now: () => Date.now() + offset });
  });
  after(() => server.stop());
  const now = () => Date.now() + offset;

  test('a new key works at once; deactivated, reactivated and deleted keys follow at once', async () => {
    const root = server.credentials;
    const key = await userWithKey(server.endpoint, root, 'keys-user');
    const caller = await ok(call(server.endpoint, key, { service: 'sts', params: { Action: 'GetCallerIdentity' } }));
    assert.equal(tag(caller, 'Arn'), `arn:aws:iam::${ACCOUNT}:user/keys-user`);
    assert.equal((await call(server.endpoint, key, 'ListSecrets')).status, 200);

    const setStatus = (status: string) => iamOk(server.endpoint, root, { Action: 'UpdateAccessKey', UserName: 'keys-user', AccessKeyId: key.accessKeyId, Status: status });
    await setStatus('Inactive');
    const refused = await call(server.endpoint, key, 'ListSecrets');
    assert.equal(refused.status, 400);
    assert.deepEqual(JSON.parse(refused.body), { __type: 'UnrecognizedClientException', Message: 'The security token included in the request is invalid.' });
    const refusedSts = await call(server.endpoint, key, { service: 'sts', params: { Action: 'GetCallerIdentity' } });
    assert.equal(refusedSts.status, 403);
    assert.equal(codeOf(refusedSts), 'InvalidClientTokenId');
    await setStatus('Active');
    assert.equal((await call(server.endpoint, key, 'ListSecrets')).status, 200);
    await iamOk(server.endpoint, root, { Action: 'DeleteAccessKey', UserName: 'keys-user', AccessKeyId: key.accessKeyId });
    assert.equal(codeOf(await call(server.endpoint, key, 'ListSecrets')), 'UnrecognizedClientException');
  });

  test('temporary credentials: with their token only, until they expire (DurationSeconds=900)', async () => {
    const root = server.credentials;
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }] });
    await iamOk(server.endpoint, root, { Action: 'CreateRole', RoleName: 'short', AssumeRolePolicyDocument: trust });
    await iamOk(server.endpoint, root, { Action: 'PutRolePolicy', RoleName: 'short', PolicyName: 'list', PolicyDocument: LIST });
    const xml = await ok(call(server.endpoint, root, {
      service: 'sts', params: { Action: 'AssumeRole', RoleArn: `arn:aws:iam::${ACCOUNT}:role/short`, RoleSessionName: 'brief', DurationSeconds: '900' },
    }));
    const temp: Keys = { accessKeyId: tag(xml, 'AccessKeyId')!, secretAccessKey: tag(xml, 'SecretAccessKey')!, sessionToken: tag(xml, 'SessionToken')! };
    const expiration = Date.parse(tag(xml, 'Expiration')!);
    assert.ok(Math.abs(expiration - (now() + 900_000)) < 5_000);

    assert.equal((await call(server.endpoint, temp, 'ListSecrets', now())).status, 200);
    const who = await ok(call(server.endpoint, temp, { service: 'sts', params: { Action: 'GetCallerIdentity' } }, now()));
    assert.equal(tag(who, 'Arn'), `arn:aws:sts::${ACCOUNT}:assumed-role/short/brief`);
    // without the token, or with another one
    const { sessionToken, ...noToken } = temp;
    assert.equal(codeOf(await call(server.endpoint, noToken, 'ListSecrets', now())), 'UnrecognizedClientException');
    assert.equal(codeOf(await call(server.endpoint, { ...temp, sessionToken: `${sessionToken}x` }, 'ListSecrets', now())), 'UnrecognizedClientException');
    assert.equal(codeOf(await call(server.endpoint, noToken, { service: 'sts', params: { Action: 'GetCallerIdentity' } }, now())), 'InvalidClientTokenId');

    offset += 899_000; // one second before expiry: still good
    assert.equal((await call(server.endpoint, temp, 'ListSecrets', now())).status, 200);
    offset += 1_000; // expired (requests are signed by the server's clock, so the skew check passes)
    const expired = await call(server.endpoint, temp, 'ListSecrets', now());
    assert.equal(expired.status, 400);
    assert.deepEqual(JSON.parse(expired.body), { __type: 'ExpiredTokenException', Message: 'The security token included in the request is expired' });
    const expiredSts = await call(server.endpoint, temp, { service: 'sts', params: { Action: 'GetCallerIdentity' } }, now());
    assert.equal(expiredSts.status, 403);
    assert.equal(codeOf(expiredSts), 'ExpiredToken');
    assert.equal(tag(expiredSts.body, 'Message'), 'The security token included in the request is expired');
    offset = 0;
  });
});

describe('two server processes on one data directory', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  before(async () => {
    const dataDir = tempDir();
    a = await spawnServer({ dataDir });
    b = await spawnServer({ dataDir });
  });

  test('a key created through one works at once on the other; deactivated, it stops at once there and within a second here', async () => {
    const root = a.readCredentials();
    const key = await userWithKey(a.url, root, 'shared-user');
    assert.equal((await call(b.url, key, 'ListSecrets')).status, 200, 'created by A, used on B');
    assert.equal((await call(a.url, key, 'ListSecrets')).status, 200);

    await iamOk(a.url, root, { Action: 'UpdateAccessKey', UserName: 'shared-user', AccessKeyId: key.accessKeyId, Status: 'Inactive' });
    const changed = Date.now();
    assert.equal(codeOf(await call(a.url, key, 'ListSecrets')), 'UnrecognizedClientException', 'at once where it was changed');
    let stoppedAfter = -1;
    while (Date.now() - changed < 5_000) {
      const r = await call(b.url, key, 'ListSecrets');
      if (r.status !== 200) {
        assert.equal(codeOf(r), 'UnrecognizedClientException');
        stoppedAfter = Date.now() - changed;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(stoppedAfter >= 0 && stoppedAfter <= 1_500, `B stopped accepting the key after ${stoppedAfter} ms`);
    // and from then on never again
    for (let i = 0; i < 5; i++) assert.equal((await call(b.url, key, 'ListSecrets')).status, 400);
  });
});

describe('serve --workers 2', () => {
  let server: ServerProcess;
  before(async () => {
    server = await spawnServer({ args: ['--workers', '2'] });
  });

  test('every worker takes a new key at once and drops a deleted one within a second', async () => {
    const root = server.readCredentials();
    const key = await userWithKey(server.url, root, 'worker-user');
    // fresh connections spread over both workers
    const first = await Promise.all(Array.from({ length: 12 }, () => call(server.url, key, 'ListSecrets')));
    assert.deepEqual(first.map((r) => r.status), Array(12).fill(200));
    await iamOk(server.url, root, { Action: 'DeleteAccessKey', UserName: 'worker-user', AccessKeyId: key.accessKeyId });
    await new Promise((r) => setTimeout(r, 1_100));
    const later = await Promise.all(Array.from({ length: 12 }, () => call(server.url, key, 'ListSecrets')));
    assert.deepEqual(later.map(codeOf), Array(12).fill('UnrecognizedClientException'));
  });
});
