import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sdkSigner } from '../../test/helpers/raw.js';
import { keyringOf } from '../crypto/keyring.js';
import { ServiceError } from '../errors.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { newAccessKey, newSessionToken, sealKeySecret, sessionTokenHash, TEMPORARY_KEY_PREFIX } from './access-keys.js';
import { accessKeyIdOf, createAuthenticator } from './authenticator.js';
import type { IncomingSignedRequest } from './sigv4.js';

const ACCOUNT = '123456789012';
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const dir = mkdtempSync(join(tmpdir(), 'lockstep-auth-'));
const store = new SqliteStore(join(dir, 'lockstep.sqlite'));
const keyring = keyringOf([randomBytes(32)]);
let now = T0;
const auth = createAuthenticator({ store, keyring, region: 'us-east-1', accountId: ACCOUNT, now: () => now });
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/dev/alice`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/app`;

async function sign(creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, at = now): Promise<IncomingSignedRequest> {
  const signed = await sdkSigner({ credentials: creds, region: 'us-east-1', service: 'sts' }).sign(
    {
      method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 8400, path: '/',
      headers: { host: '127.0.0.1:8400', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    },
    { signingDate: new Date(at) },
  );
  return { method: 'POST', url: '/', headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])), body: Buffer.from('Action=GetCallerIdentity&Version=2011-06-15') };
}

async function fails(req: IncomingSignedRequest, code: string): Promise<void> {
  await assert.rejects(auth.authenticate(req, 'sts'), (e: unknown) => e instanceof ServiceError && e.code === code && e.status === 400);
}

async function putKey(k: { accessKeyId: string; secretAccessKey: string }, principal: string, extra: object = {}): Promise<void> {
  await store.transaction((tx) =>
    tx.identity.putAccessKey({
      accessKeyId: k.accessKeyId, sealedSecret: sealKeySecret(keyring, k.accessKeyId, k.secretAccessKey), principal, createdMs: T0, status: 'Active', ...extra,
    }),
  );
}

test('the access key id of an Authorization header', () => {
  assert.equal(accessKeyIdOf('AWS4-HMAC-SHA256 Credential=LKIAABC/20240501/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00'), 'LKIAABC');
  assert.equal(accessKeyIdOf('AWS4-HMAC-SHA256 Credential=/x'), undefined);
  assert.equal(accessKeyIdOf(undefined), undefined);
  assert.equal(accessKeyIdOf('Bearer x'), undefined);
});

test('root, users and role sessions: who signed', async () => {
  const root = newAccessKey();
  await putKey(root, 'root');
  assert.deepEqual(await auth.authenticate(await sign(root), 'sts'), {
    accessKeyId: root.accessKeyId, principalArn: `arn:aws:iam::${ACCOUNT}:root`, kind: 'root', accountId: ACCOUNT, userId: ACCOUNT,
  });

  const userKey = newAccessKey();
  await putKey(userKey, USER_ARN); // no such user yet: an orphaned key is not accepted
  await fails(await sign(userKey), 'UnrecognizedClientException');
  await store.transaction((tx) =>
    tx.identity.putPrincipal({ arn: USER_ARN, kind: 'user', name: 'alice', path: '/dev/', uniqueId: 'AIDAAAAAAAAAAAAAAAAAA', createdMs: T0 }),
  );
  auth.invalidatePrincipal(USER_ARN);
  auth.invalidateKey(userKey.accessKeyId);
  const user = await auth.authenticate(await sign(userKey), 'sts');
  assert.equal(user.kind, 'user');
  assert.equal(user.principalArn, USER_ARN);
  assert.equal(user.userId, 'AIDAAAAAAAAAAAAAAAAAA');
  assert.equal(user.userName, 'alice');
  // a long-term key with a session token is refused, as AWS does
  await fails(await sign({ ...userKey, sessionToken: 'x' }), 'UnrecognizedClientException');

  // deactivated: refused at once after invalidation
  await store.transaction(async (tx) => tx.identity.putAccessKey({ ...(await tx.identity.accessKey(userKey.accessKeyId))!, status: 'Inactive' }));
  auth.invalidateKey(userKey.accessKeyId);
  await fails(await sign(userKey), 'UnrecognizedClientException');
});

test('temporary keys need their token and stop at their expiry', async () => {
  await store.transaction((tx) =>
    tx.identity.putPrincipal({ arn: ROLE_ARN, kind: 'role', name: 'app', path: '/', uniqueId: 'AROAAAAAAAAAAAAAAAAAA', createdMs: T0, trustPolicy: '{}' }),
  );
  const key = newAccessKey(TEMPORARY_KEY_PREFIX);
  const token = newSessionToken();
  const session = { roleArn: ROLE_ARN, roleName: 'app', sessionName: 's1', assumedRoleId: 'AROAAAAAAAAAAAAAAAAAA:s1' };
  await putKey(key, ROLE_ARN, { expiresMs: T0 + 900_000, sessionTokenHash: sessionTokenHash(token), session: JSON.stringify(session) });
  const p = await auth.authenticate(await sign({ ...key, sessionToken: token }), 'sts');
  assert.equal(p.kind, 'assumed-role');
  assert.equal(p.principalArn, `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`);
  assert.equal(p.userId, 'AROAAAAAAAAAAAAAAAAAA:s1');
  assert.deepEqual(p.session, session);
  await fails(await sign(key), 'UnrecognizedClientException');
  await fails(await sign({ ...key, sessionToken: token + 'x' }), 'UnrecognizedClientException');
  now = T0 + 900_000;
  await fails(await sign({ ...key, sessionToken: token }), 'ExpiredTokenException');
  now = T0;
});

test('an unknown key costs one read per lifetime, and a key created meanwhile is seen once invalidated', async () => {
  const k = newAccessKey();
  await fails(await sign(k), 'UnrecognizedClientException');
  await putKey(k, 'root');
  await fails(await sign(k), 'UnrecognizedClientException'); // the "unknown" answer is cached (up to 1 s)
  auth.invalidateKey(k.accessKeyId);
  assert.equal((await auth.authenticate(await sign(k), 'sts')).kind, 'root');
});
