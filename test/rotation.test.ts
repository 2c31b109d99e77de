import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelRotateSecretCommand, CreateSecretCommand, DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand,
  ListSecretVersionIdsCommand, PutSecretValueCommand, RotateSecretCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import type { RotationEvent } from '../src/rotation/registry.js';
import { rejects } from './helpers/sdk.js';
import { sdkSignedPost } from './helpers/raw.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/process.js';

let srv: TestServer;
let sm: SecretsManagerClient;

before(async () => {
  srv = await startServer({ rotation: { retryBaseMs: 20, tickMs: 60_000, maxAttempts: 4 } });
  sm = srv.client();
});
after(() => srv.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A rotation function in the shape of the seed's: new password on createSecret, label move on finishSecret. */
function passwordRotator(calls: string[], failures: Partial<Record<RotationEvent['Step'], number>> = {}) {
  const left = { ...failures };
  return async (event: RotationEvent) => {
    calls.push(event.Step);
    if ((left[event.Step] ?? 0) > 0) {
      left[event.Step]!--;
      throw new Error(`${event.Step} failed on purpose`);
    }
    const { SecretId: id, ClientRequestToken: token } = event;
    if (event.Step === 'createSecret') {
      try {
        await sm.send(new GetSecretValueCommand({ SecretId: id, VersionId: token, VersionStage: 'AWSPENDING' }));
        return;
      } catch (e) {
        if ((e as Error).name !== 'ResourceNotFoundException') throw e;
      }
      const current = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSCURRENT' }))).SecretString!);
      const pw = (await sm.send(new GetRandomPasswordCommand({ PasswordLength: 24, ExcludePunctuation: true }))).RandomPassword!;
      await sm.send(new PutSecretValueCommand({
        SecretId: id, ClientRequestToken: token, SecretString: JSON.stringify({ ...current, password: pw }), VersionStages: ['AWSPENDING'],
      }));
    } else if (event.Step === 'finishSecret') {
      const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
      const current = Object.entries(d.VersionIdsToStages ?? {}).find(([, st]) => st.includes('AWSCURRENT'))![0];
      if (current === token) return;
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }));
    }
  };
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function rotationDone(id: string) {
  return waitFor(`rotation of ${id}`, async () => {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
    return Object.values(d.VersionIdsToStages ?? {}).some((st) => st.includes('AWSPENDING')) ? undefined : d;
  });
}

describe('RotateSecret with a module function', () => {
  test('rotates: four steps in order, AWSPENDING removed, dates set, same shape as AWS', async () => {
    const calls: string[] = [];
    const arn = srv.app.registerRotationFunction('pw-rotator', passwordRotator(calls));
    await sm.send(new CreateSecretCommand({ Name: 'rot/one', SecretString: JSON.stringify({ username: 'u', password: 'old' }) }));
    const r = await sm.send(new RotateSecretCommand({ SecretId: 'rot/one', RotationLambdaARN: arn, RotationRules: { AutomaticallyAfterDays: 1 } }));
    const d = await rotationDone('rot/one');
    assert.deepEqual(calls, ['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    assert.equal(d.RotationEnabled, true);
    assert.equal(d.RotationLambdaARN, arn);
    assert.deepEqual(d.RotationRules, { AutomaticallyAfterDays: 1 });
    assert.ok(d.LastRotatedDate && d.NextRotationDate);
    const stages = Object.entries(d.VersionIdsToStages!);
    assert.equal(stages.length, 2);
    assert.deepEqual(d.VersionIdsToStages![r.VersionId!], ['AWSCURRENT']);
    const v = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'rot/one' }))).SecretString!);
    assert.equal(v.username, 'u');
    assert.notEqual(v.password, 'old');
    assert.equal(v.password.length, 24);
  });

  test('a step that fails twice is retried and the rotation leaves exactly one new version', async () => {
    const calls: string[] = [];
    const arn = srv.app.registerRotationFunction('flaky-rotator', passwordRotator(calls, { setSecret: 2 }));
    await sm.send(new CreateSecretCommand({ Name: 'rot/flaky', SecretString: JSON.stringify({ password: 'p0' }) }));
    await sm.send(new RotateSecretCommand({ SecretId: 'rot/flaky', RotationLambdaARN: arn }));
    await rotationDone('rot/flaky');
    assert.deepEqual(calls, ['createSecret', 'setSecret', 'setSecret', 'setSecret', 'testSecret', 'finishSecret']);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'rot/flaky', IncludeDeprecated: true }));
    assert.equal(versions.Versions!.length, 2);
  });

  test('a function that always fails: the run fails, AWSCURRENT untouched, AWSPENDING cleared', async () => {
    const arn = srv.app.registerRotationFunction('broken', async () => {
      throw new Error('nope');
    });
    await sm.send(new CreateSecretCommand({ Name: 'rot/broken', SecretString: 'keep' }));
    await sm.send(new RotateSecretCommand({ SecretId: 'rot/broken', RotationLambdaARN: arn }));
    await rotationDone('rot/broken');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'rot/broken' }))).SecretString, 'keep');
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'rot/broken', IncludeDeprecated: true }));
    assert.equal(versions.Versions!.length, 1);
  });

  test("AWS's errors: no function, a function that cannot be invoked, no token via raw request is covered elsewhere", async () => {
    await sm.send(new CreateSecretCommand({ Name: 'rot/errs', SecretString: 'x' }));
    await rejects(sm.send(new RotateSecretCommand({ SecretId: 'rot/errs' })), 'InvalidRequestException',
      'No Lambda rotation function ARN is associated with this secret.');
    await rejects(
      sm.send(new RotateSecretCommand({ SecretId: 'rot/errs', RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:nope' })),
      'AccessDeniedException',
      'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
    );
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'rot/errs' }));
    assert.equal(d.RotationEnabled, undefined, 'a refused RotateSecret changes nothing');
  });

  test('two concurrent RotateSecret calls: one run, the other gets AWS\'s error', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: string[] = [];
    const inner = passwordRotator(calls);
    const arn = srv.app.registerRotationFunction('slow-rotator', async (e) => {
      if (e.Step === 'createSecret') await gate;
      return inner(e);
    });
    await sm.send(new CreateSecretCommand({ Name: 'rot/race', SecretString: JSON.stringify({ password: 'p' }) }));
    const results = await Promise.allSettled([
      sm.send(new RotateSecretCommand({ SecretId: 'rot/race', RotationLambdaARN: arn })),
      sm.send(new RotateSecretCommand({ SecretId: 'rot/race', RotationLambdaARN: arn })),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const bad = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1);
    assert.equal(bad.length, 1);
    assert.equal(bad[0].reason.name, 'InvalidRequestException');
    assert.equal(bad[0].reason.message, "A previous rotation isn't complete. That rotation will be reattempted.");
    release();
    await rotationDone('rot/race');
    assert.equal(calls.filter((c) => c === 'createSecret').length, 1);
  });

  test('a manual PutSecretValue during a run abandons it; CancelRotateSecret turns rotation off', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: string[] = [];
    const inner = passwordRotator(calls);
    const arrived: string[] = [];
    const arn = srv.app.registerRotationFunction('gated', async (e) => {
      arrived.push(e.Step);
      if (e.Step === 'setSecret') await gate;
      return inner(e);
    });
    await sm.send(new CreateSecretCommand({ Name: 'rot/manual', SecretString: JSON.stringify({ password: 'a' }) }));
    await sm.send(new RotateSecretCommand({ SecretId: 'rot/manual', RotationLambdaARN: arn, RotationRules: { AutomaticallyAfterDays: 7 } }));
    await waitFor('setSecret to start', async () => (arrived.includes('setSecret') ? true : undefined));
    await sm.send(new PutSecretValueCommand({ SecretId: 'rot/manual', SecretString: JSON.stringify({ password: 'manual' }) }));
    release();
    await rotationDone('rot/manual');
    await sleep(100);
    assert.ok(!calls.includes('finishSecret'), 'the abandoned run did not finish');
    assert.equal(JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'rot/manual' }))).SecretString!).password, 'manual');
    const c = await sm.send(new CancelRotateSecretCommand({ SecretId: 'rot/manual' }));
    assert.equal(c.Name, 'rot/manual');
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'rot/manual' }));
    assert.equal(d.RotationEnabled, false);
    assert.equal(d.NextRotationDate, undefined);
    assert.deepEqual(d.RotationRules, { AutomaticallyAfterDays: 7 }, 'the previous schedule stays visible');
  });
});

describe('history and events', () => {
  test('the API extension and `lockstep rotation history` show every run and step; events are logged', async () => {
    const calls: string[] = [];
    const arn = srv.app.registerRotationFunction('hist-rotator', passwordRotator(calls, { testSecret: 1 }));
    await sm.send(new CreateSecretCommand({ Name: 'rot/hist', SecretString: JSON.stringify({ password: 'hist-secret-value-1' }) }));
    const r = await sm.send(new RotateSecretCommand({ SecretId: 'rot/hist', RotationLambdaARN: arn }));
    await rotationDone('rot/hist');
    const res = await sdkSignedPost(srv, '', JSON.stringify({ SecretId: 'rot/hist' }), { rawTarget: 'Lockstep.GetRotationHistory' });
    assert.equal(res.status, 200, res.body);
    const h = JSON.parse(res.body);
    assert.equal(h.Name, 'rot/hist');
    assert.equal(h.Runs.length, 1);
    const run = h.Runs[0];
    assert.equal(run.Token, r.VersionId);
    assert.equal(run.State, 'succeeded');
    assert.deepEqual(run.Steps.map((s: { Step: string; Outcome: string }) => `${s.Step}:${s.Outcome}`), [
      'createSecret:succeeded', 'setSecret:succeeded', 'testSecret:failed', 'testSecret:succeeded', 'finishSecret:succeeded',
    ]);
    assert.match(run.Steps[2].Error, /testSecret failed on purpose/);
    for (const s of run.Steps) assert.ok(s.DurationMs >= 0 && s.StartedDate > 0);

    const ev = await sdkSignedPost(srv, '', JSON.stringify({ SecretId: 'rot/hist' }), { rawTarget: 'Lockstep.ListEvents' });
    // CreateSecret and finishSecret move labels (SecretLabelUpdated); the engine's own events frame the run.
    assert.deepEqual(JSON.parse(ev.body).Events.map((e: { Type: string }) => e.Type), [
      'SecretLabelUpdated', 'RotationStarted', 'SecretLabelUpdated', 'RotationSucceeded',
    ]);

    const cli = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'rotation', 'history', 'rot/hist', '--data-dir', srv.dataDir], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /run \d+ rotate succeeded/);
    assert.match(cli.stdout, /testSecret\s+attempt 1 failed/);
    assert.match(cli.stdout, /finishSecret\s+attempt 1 succeeded/);
    for (const out of [res.body, ev.body, cli.stdout]) assert.ok(!out.includes('hist-secret-value-1'));
    const bad = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'rotation', 'history', 'rot/hist', '--limit', '-1', '--data-dir', srv.dataDir], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--limit must be a whole number from 1 to 1000/);
  });

  test('a failing function\'s error is redacted in the journal: the secret value never appears', async () => {
    const arn = srv.app.registerRotationFunction('leaky', async (e) => {
      const v = (await sm.send(new GetSecretValueCommand({ SecretId: e.SecretId }))).SecretString!;
      throw new Error(`cannot log in with ${v} or ${JSON.parse(v).password}`);
    });
    await sm.send(new CreateSecretCommand({ Name: 'rot/leaky', SecretString: JSON.stringify({ password: 'canary-leaky-pass-123' }) }));
    await sm.send(new RotateSecretCommand({ SecretId: 'rot/leaky', RotationLambdaARN: arn }));
    await rotationDone('rot/leaky');
    const res = await sdkSignedPost(srv, '', JSON.stringify({ SecretId: 'rot/leaky' }), { rawTarget: 'Lockstep.GetRotationHistory' });
    const h = JSON.parse(res.body);
    assert.equal(h.Runs[0].State, 'failed');
    assert.match(h.Runs[0].LastError, /createSecret failed after 4 attempt\(s\): Error: cannot log in with \[REDACTED\]/);
    assert.ok(!res.body.includes('canary-leaky-pass-123'));
    const ev = await sdkSignedPost(srv, '', JSON.stringify({ SecretId: 'rot/leaky' }), { rawTarget: 'Lockstep.ListEvents' });
    assert.ok(JSON.parse(ev.body).Events.some((e: { Type: string }) => e.Type === 'RotationFailed'));
    assert.ok(!ev.body.includes('canary-leaky-pass-123'));
  });
});

describe('bad rotation input', () => {
  test('malformed or too-frequent schedules are refused with InvalidParameterException and change nothing', async () => {
    const arn = srv.app.registerRotationFunction('never-called', async () => {
      throw new Error('must not run');
    });
    await sm.send(new CreateSecretCommand({ Name: 'rot/badrules', SecretString: 'x' }));
    for (const RotationRules of [
      { ScheduleExpression: 'rate(1 hours)' },
      { ScheduleExpression: 'cron(0 * * * ? *)' },
      { ScheduleExpression: 'every day' },
      { AutomaticallyAfterDays: 2, ScheduleExpression: 'rate(2 days)' },
      { ScheduleExpression: 'rate(1 day)', Duration: '25h' },
    ]) {
      const err = await rejects(
        sm.send(new RotateSecretCommand({ SecretId: 'rot/badrules', RotationLambdaARN: arn, RotationRules })),
        ['InvalidParameterException', 'ValidationException'],
      );
      assert.ok(err.message.length > 10);
    }
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'rot/badrules' }));
    assert.equal(d.RotationEnabled, undefined);
    assert.deepEqual(Object.keys(d.VersionIdsToStages!).length, 1);
  });
});
