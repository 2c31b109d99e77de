import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, RotateSecretCommand, SecretsManagerClient,
  UpdateSecretVersionStageCommand, DescribeSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { freePort } from './helpers/pg-cluster.js';
import { startLockstep } from '../src/server/app.js';
import { SecretCache, subscribeEvents, type LockstepEvent } from '../src/client/index.js';
import type { RotationEvent } from '../src/rotation/registry.js';

// The caching client against a real server: memory hits, one fetch per cold secret, version checks,
// push invalidation through the event stream, LRU bounds, and serving through an outage.

let srv: TestServer;
let sm: SecretsManagerClient;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  srv = await startServer({ moduleFunctions: { 'next-value': nextValueRotator() } });
  sm = srv.client();
});
after(() => srv?.stop());

/** A module rotation function that puts `{"n": previous n + 1}` as the next value. */
function nextValueRotator() {
  return async (event: RotationEvent) => {
    const c = new SecretsManagerClient({ endpoint: srv.endpoint, region: 'us-east-1', credentials: srv.credentials });
    try {
      if (event.Step === 'createSecret') {
        const cur = JSON.parse((await c.send(new (await import('@aws-sdk/client-secrets-manager')).GetSecretValueCommand({ SecretId: event.SecretId }))).SecretString!);
        await c.send(new PutSecretValueCommand({
          SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken, SecretString: JSON.stringify({ n: cur.n + 1 }), VersionStages: ['AWSPENDING'],
        }));
      } else if (event.Step === 'finishSecret') {
        const d = await c.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
        const current = Object.entries(d.VersionIdsToStages ?? {}).find(([, st]) => st.includes('AWSCURRENT'))![0];
        if (current !== event.ClientRequestToken) {
          await c.send(new UpdateSecretVersionStageCommand({
            SecretId: event.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: event.ClientRequestToken, RemoveFromVersionId: current,
          }));
        }
      }
    } finally {
      c.destroy();
    }
  };
}

/** An SDK client that counts the commands it sends, by name. */
function countingClient(endpoint = srv.endpoint) {
  const client = new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials: srv.credentials, maxAttempts: 1 });
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts[context.commandName as string] = (counts[context.commandName as string] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, counts };
}

let n = 0;
const unique = (p: string) => `${p}-${process.pid}-${++n}`;

describe('SecretCache', () => {
  test('a thousand concurrent gets of a cold secret cause one fetch', async () => {
    const id = unique('cold');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: 'cold-value' }));
    const { client, counts } = countingClient();
    const cache = new SecretCache({ client, push: false });
    try {
      const values = await Promise.all(Array.from({ length: 1000 }, () => cache.getString(id)));
      assert.ok(values.every((v) => v === 'cold-value'));
      assert.equal(counts.GetSecretValueCommand, 1);
      assert.equal(cache.stats.fetches, 1);
      // And warm gets send nothing at all.
      for (let i = 0; i < 100; i++) assert.equal(await cache.getString(id), 'cold-value');
      assert.equal(counts.GetSecretValueCommand, 1);
      assert.equal(counts.DescribeSecretCommand, undefined);
    } finally {
      cache.close();
      client.destroy();
    }
  });

  test('after the TTL a get answers at once and checks the version; the value is fetched only when it changed', async () => {
    const id = unique('ttl');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: 'v1' }));
    const { client, counts } = countingClient();
    const cache = new SecretCache({ client, push: false, ttlMs: 100 });
    try {
      assert.equal(await cache.getString(id), 'v1');
      await sleep(150);
      assert.equal(await cache.getString(id), 'v1'); // served at once; a check starts behind it
      await waitFor(() => counts.DescribeSecretCommand === 1);
      assert.equal(counts.GetSecretValueCommand, 1, 'unchanged: no second fetch');
      await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: 'v2' }));
      await sleep(150);
      await cache.getString(id);
      await waitFor(async () => (await cache.getString(id)) === 'v2');
      assert.equal(counts.DescribeSecretCommand, 2);
      assert.equal(counts.GetSecretValueCommand, 2);
    } finally {
      cache.close();
      client.destroy();
    }
  });

  test('push: a rotated value reaches the cache within a second, with a TTL of an hour', async () => {
    const id = unique('push');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: JSON.stringify({ n: 1 }) }));
    const { client, counts } = countingClient();
    const cache = new SecretCache({ client, ttlMs: 3_600_000 });
    try {
      assert.deepEqual(await cache.getJson(id), { n: 1 });
      await waitFor(() => cache.push === 'open');
      for (let round = 2; round <= 4; round++) {
        await sm.send(new RotateSecretCommand({
          SecretId: id, RotationLambdaARN: `arn:aws:lambda:us-east-1:123456789012:function:next-value`,
        }));
        await waitFor(async () => (await cache.getJson<{ n: number }>(id)).n === round, 5_000);
        await waitFor(async () => !(await hasPending(id)));
      }
      // Measured from the label move itself: a value change written now is seen within a second.
      await waitFor(async () => !(await hasPending(id)));
      const before = Date.now();
      await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: JSON.stringify({ n: 99 }) }));
      await waitFor(async () => (await cache.getJson<{ n: number }>(id)).n === 99, 1_000);
      const seenMs = Date.now() - before;
      assert.ok(seenMs < 1000, `seen after ${seenMs} ms`);
      assert.equal(counts.DescribeSecretCommand, undefined, 'push needs no version checks');
      assert.ok(cache.stats.pushEvents >= 4);
    } finally {
      cache.close();
      client.destroy();
    }
  });

  test('bounded: the least recently used entry goes first', async () => {
    const ids = [unique('lru'), unique('lru'), unique('lru'), unique('lru')];
    for (const id of ids) await sm.send(new CreateSecretCommand({ Name: id, SecretString: id }));
    const { client, counts } = countingClient();
    const cache = new SecretCache({ client, push: false, maxEntries: 3 });
    try {
      for (const id of ids.slice(0, 3)) await cache.getString(id);
      await cache.getString(ids[0]); // now ids[1] is the least recently used
      await cache.getString(ids[3]);
      assert.equal(cache.size, 3);
      const fetches = counts.GetSecretValueCommand;
      await cache.getString(ids[0]);
      await cache.getString(ids[2]);
      await cache.getString(ids[3]);
      assert.equal(counts.GetSecretValueCommand, fetches, 'a kept entry was fetched again');
      await cache.getString(ids[1]);
      assert.equal(counts.GetSecretValueCommand, fetches + 1, 'the evicted entry was not fetched again');
    } finally {
      cache.close();
      client.destroy();
    }
  });

  test('typed getters, stages, version ids, refreshNow, and a deleted secret', async () => {
    const id = unique('typed');
    const bin = unique('bin');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: JSON.stringify({ user: 'a' }) }));
    await sm.send(new CreateSecretCommand({ Name: bin, SecretBinary: Uint8Array.from([0, 1, 2, 255]) }));
    const { client, counts } = countingClient();
    const cache = new SecretCache({ client, push: false });
    try {
      const j1 = await cache.getJson(id);
      assert.deepEqual(j1, { user: 'a' });
      assert.equal(await cache.getJson(id), j1, 'parsed once per version');
      assert.deepEqual([...(await cache.getBinary(bin))], [0, 1, 2, 255]);
      await assert.rejects(cache.getString(bin), /holds binary data: use getBinary/);
      await assert.rejects(cache.getBinary(id), /holds a string: use getString/);
      const first = await cache.getSecretValue(id);
      await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: JSON.stringify({ user: 'b' }) }));
      assert.deepEqual(await cache.getJson(id), { user: 'a' }, 'still the cached value');
      assert.deepEqual(JSON.parse((await cache.refreshNow(id)).SecretString!), { user: 'b' });
      assert.deepEqual(await cache.getJson(id), { user: 'b' });
      assert.equal(await cache.getString(id, { versionStage: 'AWSPREVIOUS' }), JSON.stringify({ user: 'a' }));
      assert.equal(await cache.getString(id, { versionId: first.VersionId }), JSON.stringify({ user: 'a' }));
      await assert.rejects(cache.getString(unique('missing')), { name: 'ResourceNotFoundException' });
      await sm.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
      await assert.rejects(cache.refreshNow(id), { name: 'ResourceNotFoundException' });
      await assert.rejects(cache.getString(id), { name: 'ResourceNotFoundException' }, 'a deleted secret is no longer served');
      assert.ok(counts.GetSecretValueCommand >= 5);
    } finally {
      cache.close();
      client.destroy();
    }
  });
});

describe('the event stream', () => {
  test('label changes arrive as server-sent events, resumable after an id, never with a value', async () => {
    const id = unique('events');
    const events: LockstepEvent[] = [];
    const states: string[] = [];
    const sub = subscribeEvents({
      endpoint: srv.endpoint, region: 'us-east-1', credentials: async () => srv.credentials, secretId: undefined,
      types: ['SecretLabelUpdated'], onEvent: (e) => events.push(e), onState: (s) => states.push(s),
    });
    try {
      await waitFor(() => states.includes('open'));
      await sm.send(new CreateSecretCommand({ Name: id, SecretString: 'canary-event-value-1' }));
      await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: 'canary-event-value-2' }));
      await waitFor(() => events.filter((e) => e.Detail.name === id).length === 2);
      const mine = events.filter((e) => e.Detail.name === id);
      assert.equal(mine[0].Type, 'SecretLabelUpdated');
      assert.ok(mine[0].SecretArn?.includes(`:secret:${id}-`));
      assert.deepEqual(Object.keys(mine[0].Detail.labels), ['AWSCURRENT']);
      assert.deepEqual(Object.keys(mine[1].Detail.labels).sort(), ['AWSCURRENT', 'AWSPREVIOUS']);
      assert.equal(mine[1].Detail.labels.AWSCURRENT.from, mine[0].Detail.labels.AWSCURRENT.to);
      assert.ok(!JSON.stringify(events).includes('canary-event-value'));

      // A new stream starts at the present and says where that is, before any event.
      const again = subscribeEvents({
        endpoint: srv.endpoint, region: 'us-east-1', credentials: async () => srv.credentials, secretId: id, onEvent: () => undefined,
      });
      await waitFor(() => again.lastEventId !== undefined);
      assert.ok(again.lastEventId! >= mine[1].EventId, `position ${again.lastEventId}`);
      again.close();
      // A request resuming after the first event gets the second one again, and only it.
      const replay: LockstepEvent[] = [];
      const url = new URL(`/lockstep/events?secretId=${encodeURIComponent(id)}&after=${mine[0].EventId}`, srv.endpoint);
      const { signGet } = await import('../src/client/sign.js');
      const res = await fetch(url, { headers: signGet(url, srv.credentials, 'us-east-1', 'secretsmanager') });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(`id: ${mine[1].EventId}\nevent: SecretLabelUpdated`)) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      for (const block of text.split('\n\n')) {
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) replay.push(JSON.parse(data.slice(6)));
      }
      assert.deepEqual(replay.map((e) => e.EventId), [mine[1].EventId]);
    } finally {
      sub.close();
    }
  });

  test('an unsigned or badly signed request is refused, and an unknown secret is an error', async () => {
    const plain = await fetch(new URL('/lockstep/events', srv.endpoint));
    assert.equal(plain.status, 400);
    assert.match(await plain.text(), /MissingAuthenticationToken|IncompleteSignature/);
    const { signGet } = await import('../src/client/sign.js');
    const url = new URL('/lockstep/events', srv.endpoint);
    const bad = await fetch(url, { headers: signGet(url, { ...srv.credentials, secretAccessKey: 'wrong' }, 'us-east-1', 'secretsmanager') });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /InvalidSignatureException/);
    const missing = new URL('/lockstep/events?secretId=no-such-secret', srv.endpoint);
    const nf = await fetch(missing, { headers: signGet(missing, srv.credentials, 'us-east-1', 'secretsmanager') });
    assert.equal(nf.status, 400);
    assert.match(await nf.text(), /ResourceNotFoundException/);
  });
});

describe('through an outage', () => {
  test('the server stopped for 30 seconds: the cache keeps serving, then follows the new value', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-outage-'));
    const start = () => startLockstep({ port, host: '127.0.0.1', dataDir, region: 'us-east-1', accountId: '123456789012', env: {} });
    let app = await start();
    const creds = { ...app.credentials.root };
    const client = new SecretsManagerClient({ endpoint: app.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    const errors: unknown[] = [];
    const cache = new SecretCache({ client, ttlMs: 200, retryBaseMs: 100, retryMaxMs: 2_000, onError: (e) => errors.push(e) });
    try {
      await client.send(new CreateSecretCommand({ Name: 'outage', SecretString: 'before' }));
      assert.equal(await cache.getString('outage'), 'before');
      await waitFor(() => cache.push === 'open');
      await app.close();
      const until = Date.now() + 30_000;
      let served = 0;
      while (Date.now() < until) {
        assert.equal(await cache.getString('outage'), 'before');
        served++;
        await sleep(100);
      }
      assert.ok(served > 200);
      assert.ok(errors.length > 0, 'the checks did fail meanwhile');
      assert.ok(errors.length < 200, `checks backed off: ${errors.length} failures in 30 s`);
      app = await start();
      await client.send(new PutSecretValueCommand({ SecretId: 'outage', SecretString: 'after' }));
      await waitFor(async () => (await cache.getString('outage')) === 'after', 5_000);
    } finally {
      cache.close();
      client.destroy();
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

async function waitFor(f: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms: ${f.toString().slice(0, 120)}`);
    await sleep(10);
  }
}

async function hasPending(id: string): Promise<boolean> {
  const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
  return Object.values(d.VersionIdsToStages ?? {}).some((st) => st.includes('AWSPENDING'));
}
