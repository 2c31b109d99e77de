import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from './helpers/server.js';
import { sdkSigner } from './helpers/raw.js';
import { createAuthenticator } from '../src/auth/authenticator.js';
import type { IncomingSignedRequest } from '../src/auth/sigv4.js';

/*
 * An unknown access key id and a known one with a wrong signature cost the same, so response
 * times do not tell an attacker which key ids exist. Measured on the authenticator itself (no
 * network in between), interleaved, thousands of times; compared by the median with a wide margin.
 * The work is the same by construction: an unknown key signs with a dummy secret.
 */

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv?.stop());

async function signed(accessKeyId: string, secretAccessKey: string): Promise<IncomingSignedRequest> {
  const url = new URL(srv.endpoint);
  const body = '{}';
  const headers = { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets' };
  const s = await sdkSigner({ credentials: { accessKeyId, secretAccessKey }, region: 'us-east-1' }).sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers, body,
  });
  return { method: 'POST', url: '/', headers: s.headers as Record<string, string>, body: Buffer.from(body) };
}

async function timeOf(auth: ReturnType<typeof createAuthenticator>, req: IncomingSignedRequest, code: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  try {
    await auth.authenticate(req, 'secretsmanager');
  } catch (e) {
    assert.equal((e as { code?: string }).code, code);
    return Number(process.hrtime.bigint() - t0);
  }
  throw new Error('the request was accepted');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('an unknown access key and a bad signature cost the same', async (t) => {
  const { ctx } = srv.app;
  const auth = createAuthenticator({ store: ctx.store, keyring: ctx.keyring, region: 'us-east-1', accountId: '123456789012' });
  const unknown = await signed('LKIAUNKNOWNUNKNOWN23', 'x'.repeat(40));
  const badSig = await signed(srv.credentials.accessKeyId, 'y'.repeat(40));
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 200; i++) {
    await timeOf(auth, unknown, 'UnrecognizedClientException');
    await timeOf(auth, badSig, 'InvalidSignatureException');
  }
  for (let i = 0; i < 3000; i++) {
    a.push(await timeOf(auth, unknown, 'UnrecognizedClientException'));
    b.push(await timeOf(auth, badSig, 'InvalidSignatureException'));
  }
  const ma = median(a);
  const mb = median(b);
  const ratio = ma / mb;
  t.diagnostic(`median unknown key ${ma} ns, bad signature ${mb} ns, ratio ${ratio.toFixed(2)}`);
  assert.ok(ratio > 0.67 && ratio < 1.5, `unknown key ${ma} ns against bad signature ${mb} ns (ratio ${ratio.toFixed(2)})`);
});
