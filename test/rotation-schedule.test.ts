import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand,
  RotateSecretCommand, UpdateSecretVersionStageCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { pinnedClockClient } from './helpers/sdk.js';
import type { ModuleHandler } from '../src/rotation/registry.js';
import { nextRotationDate, nextRotationWindow, parseRotationRules } from '../src/rotation/schedule.js';

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A rotator that appends a counter to the value: createSecret puts it, finishSecret moves AWSCURRENT. */
function counter(client: () => SecretsManagerClient): ModuleHandler {
  return async (e) => {
    const sm = client();
    if (e.Step === 'createSecret') {
      const cur = (await sm.send(new GetSecretValueCommand({ SecretId: e.SecretId }))).SecretString!;
      await sm.send(new PutSecretValueCommand({ SecretId: e.SecretId, ClientRequestToken: e.ClientRequestToken, SecretString: `${cur}+`, VersionStages: ['AWSPENDING'] }));
    } else if (e.Step === 'finishSecret') {
      const d = await sm.send(new DescribeSecretCommand({ SecretId: e.SecretId }));
      const cur = Object.entries(d.VersionIdsToStages!).find(([, s]) => s.includes('AWSCURRENT'))![0];
      if (cur !== e.ClientRequestToken) {
        await sm.send(new UpdateSecretVersionStageCommand({ SecretId: e.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: e.ClientRequestToken, RemoveFromVersionId: cur }));
      }
    }
  };
}

async function settled(sm: SecretsManagerClient, id: string) {
  for (let i = 0; i < 400; i++) {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
    if (!Object.values(d.VersionIdsToStages ?? {}).some((s) => s.includes('AWSPENDING'))) return d;
    await sleep(25);
  }
  throw new Error('rotation did not settle');
}

test('the scheduler rotates inside the window, survives a restart, and a manual change counts as a rotation', async () => {
  let clock = Date.UTC(2026, 0, 10, 12, 0, 0);
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-sched-'));
  let srv: TestServer | undefined;
  let sm!: SecretsManagerClient;
  const start = async () => {
    srv = await startServer({
      dataDir, now: () => clock, rotation: { tickMs: 3_600_000, retryBaseMs: 20 },
      moduleFunctions: { counter: counter(() => sm) },
    });
    sm = pinnedClockClient(srv, () => clock - Date.now());
  };
  try {
    await start();
    const arn = `arn:aws:lambda:us-east-1:123456789012:function:counter`;
    await sm.send(new CreateSecretCommand({ Name: 'sched/a', SecretString: 'v' }));
    await sm.send(new RotateSecretCommand({ SecretId: 'sched/a', RotationLambdaARN: arn, RotationRules: { AutomaticallyAfterDays: 2 } }));
    let d = await settled(sm, 'sched/a');
    const sched = parseRotationRules({ AutomaticallyAfterDays: 2 });
    const rotated = d.LastRotatedDate!.getTime();
    assert.equal(d.NextRotationDate!.getTime(), nextRotationDate(sched, rotated));
    const window = nextRotationWindow(sched, rotated);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'sched/a' }))).SecretString, 'v+');

    // Just before the window opens: nothing happens.
    clock = window.startMs - 1000;
    await srv!.app.engine.tick();
    await sleep(100);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'sched/a' }))).SecretString, 'v+');

    // Inside the window: the scheduler rotates.
    clock = window.startMs + 60_000;
    await srv!.app.engine.tick();
    d = await settled(sm, 'sched/a');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'sched/a' }))).SecretString, 'v++');
    assert.equal(d.LastRotatedDate!.getTime(), Math.floor(clock / 1000) * 1000);

    // Stopped through the next window: on restart the scheduler catches up (the schedule is durable).
    await srv!.stop();
    srv = undefined;
    const next = nextRotationWindow(sched, clock);
    clock = next.startMs + 3_600_000;
    await start();
    d = await settled(sm, 'sched/a');
    for (let i = 0; i < 200 && (await sm.send(new GetSecretValueCommand({ SecretId: 'sched/a' }))).SecretString !== 'v+++'; i++) await sleep(25);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'sched/a' }))).SecretString, 'v+++');

    // A manual change is a rotation for the schedule: the next date moves from it.
    clock += 5 * 3_600_000;
    await sm.send(new PutSecretValueCommand({ SecretId: 'sched/a', SecretString: 'manual' }));
    d = await sm.send(new DescribeSecretCommand({ SecretId: 'sched/a' }));
    assert.equal(d.NextRotationDate!.getTime(), nextRotationDate(sched, clock));
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'sched/a', IncludeDeprecated: true }));
    assert.equal(versions.Versions!.length, 5);
  } finally {
    if (srv) await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a secret whose window has not come is never rotated by a tick', async () => {
  let clock = Date.UTC(2026, 5, 1, 0, 0, 0);
  let sm!: SecretsManagerClient;
  const srv = await startServer({ now: () => clock, rotation: { tickMs: 3_600_000 }, moduleFunctions: { counter: counter(() => sm) } });
  sm = pinnedClockClient(srv, () => clock - Date.now());
  try {
    await sm.send(new CreateSecretCommand({ Name: 'sched/b', SecretString: 'b' }));
    await sm.send(new RotateSecretCommand({
      SecretId: 'sched/b', RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:counter',
      RotationRules: { ScheduleExpression: 'rate(10 days)' }, RotateImmediately: false,
    }));
    await settled(sm, 'sched/b');
    for (const days of [1, 5, 8]) {
      clock = Date.UTC(2026, 5, 1) + days * DAY;
      await srv.app.engine.tick();
    }
    await sleep(100);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'sched/b' }))).SecretString, 'b');
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'sched/b' }));
    assert.equal(d.RotationEnabled, true);
    assert.equal(d.LastRotatedDate, undefined, 'a test run (RotateImmediately false) is not a rotation');
  } finally {
    await srv.stop();
  }
});

test('a scheduled rotation that fails waits for the next window instead of retrying at every tick', async () => {
  let clock = Date.UTC(2026, 2, 1, 12, 0, 0);
  let attempts = 0;
  let fail = false;
  let sm!: SecretsManagerClient;
  const good = counter(() => sm);
  const srv = await startServer({
    now: () => clock, rotation: { tickMs: 3_600_000, retryBaseMs: 5, maxAttempts: 2 },
    moduleFunctions: {
      flaky: async (e, c) => {
        attempts++;
        if (fail) throw new Error('down');
        return good(e, c);
      },
    },
  });
  sm = pinnedClockClient(srv, () => clock - Date.now());
  const runs = async () => (await srv.app.ctx.store.read(async (tx) => tx.rotation.runsOf((await tx.secrets.byName('sched/c'))!.id, 50))).map((r) => r.state);
  try {
    await sm.send(new CreateSecretCommand({ Name: 'sched/c', SecretString: 'c' }));
    await sm.send(new RotateSecretCommand({
      SecretId: 'sched/c', RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:flaky', RotationRules: { AutomaticallyAfterDays: 1 },
    }));
    await settled(sm, 'sched/c');
    assert.deepEqual(await runs(), ['succeeded']);
    const sched = parseRotationRules({ AutomaticallyAfterDays: 1 });
    const w = nextRotationWindow(sched, clock);
    fail = true;
    clock = w.startMs + 1000;
    await srv.app.engine.tick();
    for (let i = 0; i < 200 && (await runs())[0] === 'running'; i++) await sleep(10);
    assert.deepEqual(await runs(), ['failed', 'succeeded']);
    const afterFailure = attempts;
    for (const later of [60_000, 3_600_000, 7_200_000]) {
      clock = w.startMs + later;
      await srv.app.engine.tick();
    }
    await sleep(50);
    assert.equal(attempts, afterFailure, 'no new attempt inside the same window');
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'sched/c' }));
    assert.ok(d.NextRotationDate!.getTime() < nextRotationWindow(sched, clock).startMs, 'NextRotationDate stays overdue');
    fail = false;
    clock = nextRotationWindow(sched, clock).startMs + 1000;
    await srv.app.engine.tick();
    await settled(sm, 'sched/c');
    for (let i = 0; i < 200 && (await runs())[0] === 'running'; i++) await sleep(10);
    assert.deepEqual(await runs(), ['succeeded', 'failed', 'succeeded']);
  } finally {
    await srv.stop();
  }
});
