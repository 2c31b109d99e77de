// End-to-end canary: a unique secret value goes through writes, reads and failing requests; afterwards
// no file in the data directory (database, WAL, SHM, keys, anything) holds it, in clear or in base64,
// and no error message returned to the client quoted it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  BatchGetSecretValueCommand, CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, UpdateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { sdkSignedJsonHeaders } from './helpers/raw.js';
import { startServer, type TestServer } from './helpers/server.js';

const canary = 'canary-' + randomUUID();
const canary2 = 'canary-' + randomUUID();
const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-api-canary-'));
let srv: TestServer;
let sm: SecretsManagerClient;
let stopped = false;
/** Every error message (and raw error body) this file received. */
const received: string[] = [];

before(async () => {
  srv = await startServer({ dataDir });
  sm = srv.client();
});
after(async () => {
  if (!stopped) await srv?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs a call that must fail and records what the server said. */
async function failing(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $response?: { body?: unknown } };
    received.push(`${err.name}: ${err.message}`);
    return err.name;
  }
  assert.fail('expected the call to fail');
}

/** A signed raw request whose response body is recorded verbatim. */
async function rawFailing(target: string, body: string): Promise<number> {
  const headers = await sdkSignedJsonHeaders(srv, `secretsmanager.${target}`, body);
  delete headers.host;
  const res = await fetch(srv.endpoint + '/', { method: 'POST', headers, body });
  received.push(await res.text());
  return res.status;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** Needles: each canary as UTF-8, UTF-16LE (SQLite may store either) and base64 (at the three alignments). */
function needles(): Buffer[] {
  const out: Buffer[] = [];
  for (const c of [canary, canary2]) {
    out.push(Buffer.from(c, 'utf8'), Buffer.from(c, 'utf16le'));
    for (let shift = 0; shift < 3; shift++) {
      const b64 = Buffer.from('x'.repeat(shift) + c, 'utf8').toString('base64');
      // Drop the characters that depend on the neighbouring bytes.
      out.push(Buffer.from(b64.slice(shift === 0 ? 0 : 4, -4), 'utf8'));
    }
    out.push(Buffer.from(Buffer.from(c, 'utf8').toString('base64'), 'utf8'));
  }
  return out;
}

function assertNoCanaryOnDisk(when: string): void {
  const files = filesUnder(dataDir);
  assert.ok(files.length > 0, 'the data directory is empty');
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const n of needles()) {
      assert.equal(bytes.indexOf(n), -1, `${when}: ${f} contains the canary (${n.toString('utf8').slice(0, 20)}...)`);
    }
  }
}

test('a secret value never reaches the disk or an error message in clear or base64', async () => {
  // Writes and reads.
  await sm.send(new CreateSecretCommand({ Name: 'canary/s', SecretString: canary, Description: 'canary test' }));
  await sm.send(new CreateSecretCommand({ Name: 'canary/b', SecretBinary: Buffer.from(canary2, 'utf8') }));
  for (let i = 0; i < 5; i++) {
    await sm.send(new PutSecretValueCommand({ SecretId: 'canary/s', SecretString: `${canary}#${i}` }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'canary/s', SecretString: canary, VersionStages: [`S${i}`] }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'canary/s', VersionStage: `S${i}` }))).SecretString, canary);
  }
  await sm.send(new UpdateSecretCommand({ SecretId: 'canary/s', SecretString: canary }));
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'canary/s' }))).SecretString, canary);
  const bin = await sm.send(new GetSecretValueCommand({ SecretId: 'canary/b' }));
  assert.equal(Buffer.from(bin.SecretBinary!).toString('utf8'), canary2);
  const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['canary/s', 'canary/b', 'canary/none'] }));
  assert.equal(batch.SecretValues!.length, 2);
  received.push(...batch.Errors!.map((e) => `${e.ErrorCode}: ${e.Message}`));

  // Failing requests that carry the canary.
  const token = randomUUID();
  await sm.send(new PutSecretValueCommand({ SecretId: 'canary/s', SecretString: canary, ClientRequestToken: token }));
  assert.equal(await failing(sm.send(new PutSecretValueCommand({ SecretId: 'canary/s', SecretString: canary + 'x', ClientRequestToken: token }))), 'ResourceExistsException');
  assert.equal(await failing(sm.send(new CreateSecretCommand({ Name: 'canary/s', SecretString: canary }))), 'ResourceExistsException');
  assert.equal(await failing(sm.send(new CreateSecretCommand({ Name: 'bad name', SecretString: canary }))), 'ValidationException');
  assert.equal(await failing(sm.send(new CreateSecretCommand({ Name: 'canary/both', SecretString: canary, SecretBinary: Buffer.from(canary) }))), 'InvalidParameterException');
  assert.equal(await failing(sm.send(new PutSecretValueCommand({ SecretId: 'canary/none', SecretString: canary }))), 'ResourceNotFoundException');
  assert.equal(await failing(sm.send(new UpdateSecretCommand({ SecretId: 'canary/none', SecretString: canary }))), 'ResourceNotFoundException');
  assert.equal(
    await failing(sm.send(new PutSecretValueCommand({ SecretId: 'canary/s', SecretString: canary.repeat(2000) }))),
    'ValidationException',
  );
  // Raw requests: malformed JSON, a wrong type, a non-base64 blob, a too-long value, no token.
  assert.equal(await rawFailing('PutSecretValue', `{"SecretId":"canary/s","SecretString":"${canary}",`), 400);
  assert.equal(await rawFailing('PutSecretValue', `{"SecretId":"canary/s","SecretString":["${canary}"],"ClientRequestToken":"${randomUUID()}"}`), 400);
  assert.equal(await rawFailing('PutSecretValue', `{"SecretId":"canary/s","SecretBinary":"${canary}","ClientRequestToken":"${randomUUID()}"}`), 400);
  assert.equal(await rawFailing('PutSecretValue', `{"SecretId":"canary/s","SecretBinary":"${canary}A","ClientRequestToken":"${randomUUID()}"}`), 400);
  assert.equal(await rawFailing('PutSecretValue', `{"SecretId":"canary/s","SecretString":"${canary}"}`), 400);
  assert.equal(await rawFailing('CreateSecret', `{"Name":"canary/raw","SecretString":"${canary}","ClientRequestToken":"short"}`), 400);

  assert.ok(received.length >= 14);
  for (const m of received) {
    assert.ok(!m.includes(canary) && !m.includes(canary2), `an error message quoted the canary: ${m.slice(0, 300)}`);
    assert.ok(!m.includes(Buffer.from(canary).toString('base64').slice(0, 20)), `an error message quoted the canary in base64: ${m.slice(0, 300)}`);
  }

  // While the server runs (WAL and SHM present), and after it has stopped and checkpointed.
  assertNoCanaryOnDisk('while running');
  await srv.stop();
  stopped = true;
  assertNoCanaryOnDisk('after stop');
});
