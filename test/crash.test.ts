import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { cleanupProcesses, spawnServer, tempDir, type ServerProcess } from './helpers/process.js';

/*
 * SIGKILL under write load. The store is SQLite in WAL mode with synchronous=NORMAL: a killed
 * process (not a power cut) must not lose a committed transaction, and the server answers 200 only
 * after COMMIT. So after a restart every acknowledged PutSecretValue must be there, nothing that
 * was never written may appear, and the staging labels must be consistent.
 */

after(cleanupProcesses);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SECRETS = ['crash/alpha', 'crash/beta', 'crash/gamma', 'crash/delta'];
const CYCLES = 3;

/** One write sent to the server, in the order sent (writes to one secret are sequential). */
interface Write {
  versionId: string;
  value: string;
  acked: boolean;
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function allVersions(c: SecretsManagerClient, secretId: string) {
  const out: { id: string; stages: string[] }[] = [];
  let token: string | undefined;
  do {
    const page = await c.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true, MaxResults: 100, NextToken: token }));
    for (const v of page.Versions ?? []) out.push({ id: v.VersionId!, stages: [...(v.VersionStages ?? [])].sort() });
    token = page.NextToken;
  } while (token);
  return out;
}

/** Checks the store after a restart against everything written so far. */
async function verify(server: ServerProcess, history: Map<string, Write[]>, label: string): Promise<{ versions: number }> {
  const c = server.client();
  let versions = 0;
  for (const [name, writes] of history) {
    const where = `${label}, ${name}`;
    const byId = new Map(writes.map((w, i) => [w.versionId, { ...w, index: i }]));
    const stored = await allVersions(c, name);
    versions += stored.length;
    const storedIds = new Set(stored.map((v) => v.id));

    // Nothing appears that was never written.
    for (const v of stored) assert.ok(byId.has(v.id), `${where}: unknown version ${v.id}`);

    // Every acknowledged write is durable.
    const lost = writes.filter((w) => w.acked && !storedIds.has(w.versionId));
    assert.deepEqual(
      lost.map((w) => w.value),
      [],
      `${where}: ${lost.length} acknowledged PutSecretValue(s) lost after SIGKILL`,
    );

    // What is stored is a prefix of what was sent: all acknowledged writes plus possibly the last in-flight ones.
    const lastStored = Math.max(...stored.map((v) => byId.get(v.id)!.index));
    for (let i = 0; i <= lastStored; i++) {
      // Unacknowledged writes (in flight at a kill) may be missing; nothing else may be.
      if (!storedIds.has(writes[i].versionId)) assert.equal(writes[i].acked, false, `${where}: write #${i} missing`);
    }

    // Every stored version still has its value, and it is the value written under that id.
    await pool(stored, 8, async (v) => {
      const got = await c.send(new GetSecretValueCommand({ SecretId: name, VersionId: v.id }));
      assert.equal(got.SecretString, byId.get(v.id)!.value, `${where}: value of version ${v.id}`);
    });

    // Labels: exactly one AWSCURRENT, at most one AWSPREVIOUS, no others.
    const current = stored.filter((v) => v.stages.includes('AWSCURRENT'));
    const previous = stored.filter((v) => v.stages.includes('AWSPREVIOUS'));
    assert.equal(current.length, 1, `${where}: AWSCURRENT on ${current.length} versions`);
    assert.ok(previous.length <= 1, `${where}: AWSPREVIOUS on ${previous.length} versions`);
    for (const v of stored) {
      for (const s of v.stages) assert.ok(s === 'AWSCURRENT' || s === 'AWSPREVIOUS', `${where}: unexpected label ${s}`);
    }
    // Each write made itself AWSCURRENT and its predecessor AWSPREVIOUS, so the newest stored write
    // is AWSCURRENT and the stored write before it AWSPREVIOUS.
    const order = stored.map((v) => byId.get(v.id)!.index).sort((a, b) => a - b);
    const newest = writes[order[order.length - 1]];
    assert.equal(current[0].id, newest.versionId, `${where}: AWSCURRENT is not the newest stored write`);
    if (order.length > 1) {
      assert.equal(previous.length, 1, `${where}: no AWSPREVIOUS although ${order.length} versions exist`);
      assert.equal(previous[0].id, writes[order[order.length - 2]].versionId, `${where}: AWSPREVIOUS is not the write before AWSCURRENT`);
    }

    // GetSecretValue without a version gives the AWSCURRENT value, and it is a value that was written.
    const now = await c.send(new GetSecretValueCommand({ SecretId: name }));
    assert.equal(now.VersionId, newest.versionId, where);
    assert.equal(now.SecretString, newest.value, where);
    assert.ok(writes.some((w) => w.value === now.SecretString), where);

    // DescribeSecret agrees with ListSecretVersionIds.
    const d = await c.send(new DescribeSecretCommand({ SecretId: name }));
    const described = Object.fromEntries(Object.entries(d.VersionIdsToStages ?? {}).map(([id, st]) => [id, [...st].sort()]));
    const labelled = Object.fromEntries(stored.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages]));
    assert.deepEqual(described, labelled, `${where}: DescribeSecret and ListSecretVersionIds disagree`);
  }
  c.destroy();
  return { versions };
}

test('SIGKILL under PutSecretValue load leaves a consistent store (3 kill/restart cycles)', async (t) => {
  const dataDir = tempDir('lockstep-crash-');
  const history = new Map<string, Write[]>(SECRETS.map((n) => [n, []]));

  let server = await spawnServer({ dataDir });
  {
    const c = server.client();
    for (const name of SECRETS) {
      const w: Write = { versionId: randomUUID(), value: `${name}#initial`, acked: false };
      history.get(name)!.push(w);
      await c.send(new CreateSecretCommand({ Name: name, SecretString: w.value, ClientRequestToken: w.versionId }));
      w.acked = true;
    }
    c.destroy();
  }

  for (let cycle = 0; cycle < CYCLES; cycle++) {
    if (cycle > 0) {
      server = await spawnServer({ dataDir });
      await verify(server, history, `after kill ${cycle}`);
    }
    const c = server.client();
    let killed = false;
    const counts = { sent: 0, acked: 0, failed: 0 };
    const early: string[] = [];
    const writers = SECRETS.map(async (name) => {
      const writes = history.get(name)!;
      for (let i = 0; !killed; i++) {
        const w: Write = { versionId: randomUUID(), value: `${name}#${cycle}#${i}#${randomUUID()}`, acked: false };
        writes.push(w);
        counts.sent++;
        try {
          await c.send(new PutSecretValueCommand({ SecretId: name, SecretString: w.value, ClientRequestToken: w.versionId }));
          w.acked = true; // a 200 arrived: the server had committed
          counts.acked++;
        } catch (e) {
          counts.failed++;
          // Before the kill every write must succeed; after it, the one in flight fails.
          if (!killed) early.push(`${name}: ${(e as Error).name}: ${(e as Error).message}`);
          return;
        }
      }
    });
    const delay = 200 + Math.floor(Math.random() * 600);
    await sleep(delay);
    killed = true;
    server.kill('SIGKILL');
    const status = await server.waitExit();
    await Promise.all(writers);
    c.destroy();
    assert.deepEqual(early, [], 'PutSecretValue failed before the kill');
    assert.equal(status.signal, 'SIGKILL');
    t.diagnostic(`cycle ${cycle + 1}: killed after ${delay} ms; ${counts.sent} puts sent, ${counts.acked} acknowledged, ${counts.failed} cut off`);
    assert.ok(counts.acked > 0, 'the writers never got a write through before the kill');
  }

  server = await spawnServer({ dataDir });
  const { versions } = await verify(server, history, `after kill ${CYCLES}`);
  t.diagnostic(`final store: ${versions} versions across ${SECRETS.length} secrets`);
  assert.equal(server.stderr(), '', 'the restarted server wrote to stderr');
  assert.doesNotMatch(server.stdout(), /"level":50/, 'the restarted server logged an error');
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});
