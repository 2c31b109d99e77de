import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, RotateSecretCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { executionRole } from './helpers/iam.js';
import { cleanupProcesses, spawnServer, tempDir, type ServerProcess } from './helpers/process.js';
import { alive, createRotationFunction, extension, history, sleep, until, type RunEntry, type StepEntry } from './helpers/functions.js';

/*
 * SIGKILL of `lockstep serve` in the middle of a rotation. A python rotation function (boto3, no
 * endpoint configuration: the runtime's AWS_ENDPOINT_URL) marks "<step> start" and "<step> done" in
 * a progress file and sleeps before (300 ms) and after (500 ms) each step's work, so a kill lands at
 * a known point:
 *  - 'done': the function has finished step k's work, the engine has not journaled it yet
 *    (the step is in flight and must be re-run, idempotently, after the restart);
 *  - 'journaled': the engine has journaled step k as succeeded (step k+1 is in flight, before its work).
 * The server is restarted on the same data directory and the run must complete with the token
 * RotateSecret returned, no second token, no journaled step re-run, and AWSCURRENT readable throughout.
 */

const HAVE_BOTO3 = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' }).status === 0;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
const ROLE = 'arn:aws:iam::123456789012:role/rotation';
const OLD_PASSWORD = 'the-original-password-0123';
const ENGINE_ENV = {
  LOCKSTEP_ROTATION_LEASE_MS: '1500',
  LOCKSTEP_ROTATION_TICK_MS: '500',
  LOCKSTEP_ROTATION_RETRY_BASE_MS: '200',
  LOCKSTEP_ROTATION_MAX_ATTEMPTS: '5',
};

/**
 * AWS's single-user template reduced to a password change; "the database" is a file. Every step
 * is idempotent, as AWS requires: it may run again after a crash.
 */
const ROTATOR = `
import json, os, time, boto3

def mark(what):
    with open(os.environ["PROGRESS_FILE"], "a") as f:
        f.write("%s %d\\n" % (what, os.getpid()))

def lambda_handler(event, context):
    sm = boto3.client("secretsmanager")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    mark(step + " start")
    time.sleep(0.3)
    stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if token not in stages:
        raise ValueError("version %s has no stage for rotation" % token)
    if "AWSCURRENT" in stages[token] and step != "finishSecret":
        mark(step + " done")
        return
    if step == "createSecret":
        try:
            sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except sm.exceptions.ResourceNotFoundException:
            current = json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
            current["password"] = sm.get_random_password(PasswordLength=24, ExcludePunctuation=True)["RandomPassword"]
            sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current), VersionStages=["AWSPENDING"])
    elif step == "setSecret":
        pending = json.loads(sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"])
        tmp = os.environ["DB_FILE"] + ".tmp"
        with open(tmp, "w") as f:
            f.write(pending["password"])
        os.replace(tmp, os.environ["DB_FILE"])
    elif step == "testSecret":
        pending = json.loads(sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"])
        with open(os.environ["DB_FILE"]) as f:
            if f.read() != pending["password"]:
                raise ValueError("the database does not accept the pending password")
    elif step == "finishSecret":
        current = [v for v, s in stages.items() if "AWSCURRENT" in s][0]
        if current != token:
            sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current)
    mark(step + " done")
    time.sleep(0.5)
`;

/** The progress file as [what, pid] lines. */
function progress(file: string): { what: string; pid: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const i = l.lastIndexOf(' ');
    return { what: l.slice(0, i), pid: Number(l.slice(i + 1)) };
  });
}

/** Pids of function processes left behind by a killed server, and the data directories of this file's servers. */
const functionPids = new Set<number>();
const dataDirs = new Set<string>();

// A function process runs in its own process group and outlives a SIGKILLed server: end those this
// file's servers started (a recorded pid, or a bootstrap whose command line names one of our data
// directories), once the servers are gone.
after(async () => {
  await cleanupProcesses();
  const candidates = new Set(functionPids);
  for (const entry of readdirSync('/proc')) if (/^\d+$/.test(entry)) candidates.add(Number(entry));
  for (const pid of candidates) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('bootstrap-') && (functionPids.has(pid) || [...dataDirs].some((d) => cmd.includes(d)))) process.kill(-pid, 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
});

/**
 * Reads AWSCURRENT over and over while the server is up: every answer must be the complete old or
 * new value, never an error, and once the new version is current it stays current.
 */
function watchCurrent(getServer: () => { p: ServerProcess; c: SecretsManagerClient } | undefined, secretId: string, firstVersion: string) {
  const violations: string[] = [];
  let reads = 0;
  let sawNew = false;
  let token: string | undefined;
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const s = getServer();
      if (s && s.p.running()) {
        try {
          const got = await s.c.send(new GetSecretValueCommand({ SecretId: secretId }));
          reads++;
          let value: { username?: unknown; password?: unknown } = {};
          try {
            value = JSON.parse(got.SecretString ?? '');
          } catch {
            violations.push(`AWSCURRENT (${got.VersionId}) is not JSON: ${got.SecretString}`);
          }
          if (value.username !== 'app' || typeof value.password !== 'string') violations.push(`AWSCURRENT (${got.VersionId}) is incomplete: ${got.SecretString}`);
          if (got.VersionId === firstVersion) {
            if (value.password !== OLD_PASSWORD) violations.push(`the first version has a changed value: ${got.SecretString}`);
            if (sawNew) violations.push('AWSCURRENT went back to the first version after the new one was current');
          } else if (token !== undefined && got.VersionId === token) {
            sawNew = true;
            if (typeof value.password !== 'string' || !/^[A-Za-z0-9]{24}$/.test(value.password)) violations.push(`the new AWSCURRENT has an unexpected password: ${got.SecretString}`);
          } else {
            violations.push(`AWSCURRENT is on an unexpected version ${got.VersionId} (token ${token})`);
          }
        } catch (e) {
          const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
          // An error from a server that stays up is a violation; a request cut off by the kill is not.
          await sleep(200);
          if (getServer() === s && s.p.running()) violations.push(`GetSecretValue failed: ${err.name}: ${err.message} (HTTP ${err.$metadata?.httpStatusCode})`);
        }
      }
      await sleep(20);
    }
  })();
  return {
    setToken(t: string) {
      token = t;
    },
    async stop() {
      stop = true;
      await done;
      return { violations, reads, sawNew };
    },
  };
}

interface KillPoint { step: (typeof STEPS)[number]; when: 'done' | 'journaled' }

const KILL_POINTS: KillPoint[] = [
  ...STEPS.map((step) => ({ step, when: 'done' as const })),
  ...STEPS.map((step) => ({ step, when: 'journaled' as const })),
];

/** A server on a fresh data directory with the rotator registered and a secret to rotate. */
async function setup(name: string) {
  const dataDir = tempDir('lockstep-rotcrash-');
  dataDirs.add(dataDir);
  const work = tempDir('lockstep-rotcrash-work-');
  const progressFile = join(work, 'progress');
  const dbFile = join(work, 'db');
  const p = await spawnServer({ dataDir, env: ENGINE_ENV });
  const lambda = new LambdaClient({ endpoint: p.url, region: 'us-east-1', credentials: { ...p.readCredentials() }, maxAttempts: 1 });
  let fnArn: string;
  try {
    await executionRole(p.url, p.readCredentials(), 'rotation');
    fnArn = await createRotationFunction(lambda, {
      name, role: ROLE, handler: 'rotator.lambda_handler', timeout: 30,
      env: { PROGRESS_FILE: progressFile, DB_FILE: dbFile },
      code: { 'rotator.py': ROTATOR },
    });
  } finally {
    lambda.destroy();
  }
  const c = p.client();
  const created = await c.send(new CreateSecretCommand({
    Name: `rotcrash/${name}`, SecretString: JSON.stringify({ username: 'app', password: OLD_PASSWORD }),
  }));
  return { dataDir, progressFile, dbFile, p, c, fnArn, secretId: created.ARN!, firstVersion: created.VersionId! };
}

/** What the journal and the function's own record say, for failure messages. */
async function state(p: ServerProcess | undefined, secretId: string, progressFile: string): Promise<string> {
  let runs: unknown = '(server down)';
  if (p?.running()) runs = await history(p, secretId).catch((e: Error) => `(history failed: ${e.message})`);
  const counts: Record<string, number> = {};
  for (const l of progress(progressFile)) counts[l.what] = (counts[l.what] ?? 0) + 1;
  return `\n  history: ${JSON.stringify(runs)}\n  function invocations: ${JSON.stringify(counts)}`;
}

/** Waits for the run of `secretId` to leave 'running'; the history, newest run first. */
async function finished(p: ServerProcess, secretId: string, progressFile: string, timeoutMs: number): Promise<RunEntry[]> {
  try {
    return await until('the run to finish', timeoutMs, async () => {
      const r = await history(p, secretId);
      return r[0] && r[0].State !== 'running' ? r : undefined;
    }, 50);
  } catch (e) {
    throw new Error(`${(e as Error).message}${await state(p, secretId, progressFile)}`);
  }
}

/** The end state every scenario must reach: one run, succeeded, on the RotateSecret token. */
async function assertRotated(env: Awaited<ReturnType<typeof setup>>, c: SecretsManagerClient, p: ServerProcess, runs: RunEntry[], token: string) {
  assert.equal(runs.length, 1, `exactly one run (no second token): ${JSON.stringify(runs)}`);
  const run = runs[0];
  assert.equal(run.State, 'succeeded', `run did not succeed: ${JSON.stringify(run)}`);
  assert.equal(run.Token, token);
  assert.equal(run.Kind, 'rotate');

  // AWSCURRENT is the token RotateSecret returned; one new version; no AWSPENDING.
  const now = await c.send(new GetSecretValueCommand({ SecretId: env.secretId }));
  assert.equal(now.VersionId, token, 'AWSCURRENT is not on the RotateSecret VersionId');
  const value = JSON.parse(now.SecretString!);
  assert.equal(value.username, 'app');
  assert.notEqual(value.password, OLD_PASSWORD);
  assert.equal(readFileSync(env.dbFile, 'utf8'), value.password, 'the database holds a password other than AWSCURRENT');
  const versions = (await c.send(new ListSecretVersionIdsCommand({ SecretId: env.secretId, IncludeDeprecated: true }))).Versions ?? [];
  const byId = Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].sort()]));
  assert.deepEqual(byId, { [env.firstVersion]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] }, 'versions after the rotation');

  // Every step succeeded, in order.
  for (const step of STEPS) {
    assert.ok(run.Steps.some((s) => s.Step === step && s.Outcome === 'succeeded'), `${step} never succeeded: ${JSON.stringify(run.Steps)}`);
  }
  const order = run.Steps.filter((s) => s.Outcome === 'succeeded').map((s) => STEPS.indexOf(s.Step as (typeof STEPS)[number]));
  assert.deepEqual(order, [...order].sort((a, b) => a - b), `steps out of order: ${JSON.stringify(run.Steps)}`);

  // The event log: one start, one success, nothing failed or abandoned.
  const events = (await extension(p, 'ListEvents', { SecretId: env.secretId })).Events as { Type: string; Detail: Record<string, unknown> }[];
  const rotationEvents = events.filter((e) => e.Type.startsWith('Rotation'));
  assert.deepEqual(rotationEvents.map((e) => e.Type), ['RotationStarted', 'RotationSucceeded'], `events: ${JSON.stringify(events)}`);
  for (const e of rotationEvents) assert.equal(e.Detail.token, token);
}

const summary = (steps: StepEntry[], t0: number) =>
  steps.map((s) => `${s.Step}#${s.Attempt}:${s.Outcome}@${(s.StartedDate - t0 / 1000).toFixed(2)}s+${s.DurationMs}ms`).join(' ');

describe('SIGKILL the server after each step, restart, and the run completes with the same version', { concurrency: 9 }, () => {
  test('boto3 is installed for python3', () => assert.ok(HAVE_BOTO3, 'python3 cannot import boto3'));

  // The control: no kill. Each step of this function takes over a second (python start, boto3,
  // two sleeps), longer than the lease heartbeat (every max(1 s, lease / 3)): each must still be
  // invoked once and journaled once.
  test('without a kill: every step is invoked once and journaled once', async (t) => {
    const env = await setup('crash-none');
    const t0 = Date.now();
    const rotated = await env.c.send(new RotateSecretCommand({ SecretId: env.secretId, RotationLambdaARN: env.fnArn }));
    const runs = await finished(env.p, env.secretId, env.progressFile, 20_000);
    await assertRotated(env, env.c, env.p, runs, rotated.VersionId!);
    const marks = progress(env.progressFile);
    for (const step of STEPS) {
      assert.equal(runs[0].Steps.filter((s) => s.Step === step).length, 1, `${step} journaled more than once: ${JSON.stringify(runs[0].Steps)}`);
      assert.equal(marks.filter((l) => l.what === `${step} start`).length, 1, `${step} invoked more than once: ${JSON.stringify(marks)}`);
    }
    t.diagnostic(`steps ${summary(runs[0].Steps, t0)}`);
    assert.deepEqual(await env.p.stop(), { code: 0, signal: null });
  });

  for (const kp of KILL_POINTS) {
    const k = STEPS.indexOf(kp.step);
    const title = kp.when === 'done'
      ? `kill after the function finished ${kp.step}, before the engine journaled it`
      : `kill after the engine journaled ${kp.step}${k < 3 ? ` (${STEPS[k + 1]} in flight)` : ' (the run complete)'}`;
    // The last step journaled before the kill; the ones after it must run on the restarted server.
    const lastJournaledBeforeKill = kp.when === 'journaled' ? k : k - 1;

    test(title, async (t) => {
      const env = await setup(`crash-${kp.when}-${kp.step}`);
      const { dataDir, progressFile, secretId } = env;
      const first = env.p;
      let server: { p: ServerProcess; c: SecretsManagerClient } | undefined = { p: first, c: env.c };
      const watcher = watchCurrent(() => server, secretId, env.firstVersion);
      let outcome: Awaited<ReturnType<typeof watcher.stop>> | undefined;
      try {
        const rotated = await env.c.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: env.fnArn }));
        const token = rotated.VersionId!;
        assert.ok(token, 'RotateSecret returned no VersionId');
        watcher.setToken(token);

        // Wait for the kill point, then SIGKILL.
        try {
          if (kp.when === 'done') {
            await until(`"${kp.step} done" in the progress file`, 20_000, () => progress(progressFile).some((l) => l.what === `${kp.step} done`) || undefined, 10);
          } else {
            await until(`${kp.step} journaled as succeeded`, 20_000, async () => {
              const runs = await history(first, secretId);
              return runs[0]?.Steps.some((s) => s.Step === kp.step && s.Outcome === 'succeeded') || undefined;
            }, 20);
          }
        } catch (e) {
          throw new Error(`${(e as Error).message}${await state(first, secretId, progressFile)}`);
        }
        first.kill('SIGKILL');
        const killedAt = Date.now();
        assert.equal((await first.waitExit()).signal, 'SIGKILL');
        server = undefined;
        const atKill = progress(progressFile);
        for (const l of atKill) functionPids.add(l.pid);
        // A function process in flight is in its own process group: it outlives the SIGKILLed server.
        const orphans = [...new Set(atKill.map((l) => l.pid))].filter(alive);
        // The kill must have landed where intended, or the scenario tests nothing.
        const doneBefore = STEPS.filter((s) => atKill.some((l) => l.what === `${s} done`));
        assert.deepEqual(doneBefore, STEPS.slice(0, k + 1), `the kill did not land right after ${kp.step}: progress ${JSON.stringify(atKill)}`);

        const second = await spawnServer({ dataDir, env: ENGINE_ENV });
        server = { p: second, c: second.client() };

        // The run completes on the restarted server.
        const runs = await finished(second, secretId, progressFile, 20_000);
        await sleep(100); // a few more reads of the final state
        outcome = await watcher.stop();
        await assertRotated(env, server.c, second, runs, token);

        // Steps journaled before the kill ran once, before it; the others ran (again) after it.
        const steps = runs[0].Steps;
        const marks = progress(progressFile);
        for (const [i, step] of STEPS.entries()) {
          const entries = steps.filter((s) => s.Step === step);
          const starts = marks.filter((l) => l.what === `${step} start`).length;
          if (i <= lastJournaledBeforeKill) {
            assert.equal(entries.length, 1, `${step}, journaled before the kill, was journaled again: ${JSON.stringify(steps)}`);
            assert.ok(entries[0].StartedDate * 1000 <= killedAt, `${step} was journaled before the kill but starts after it`);
            assert.equal(starts, 1, `${step}, journaled before the kill, was invoked again: ${JSON.stringify(marks)}`);
          } else {
            const resumed = entries.filter((s) => s.Outcome === 'succeeded' && s.StartedDate * 1000 >= killedAt);
            assert.ok(resumed.length >= 1, `${step} did not run on the restarted server: ${JSON.stringify(steps)} (kill at ${killedAt / 1000})`);
          }
        }

        // AWSCURRENT was complete on every read.
        assert.deepEqual(outcome.violations, [], 'GetSecretValue of AWSCURRENT during the rotation');
        assert.ok(outcome.reads > 10, `too few reads of AWSCURRENT (${outcome.reads})`);
        assert.ok(outcome.sawNew, 'never read the new AWSCURRENT');
        assert.doesNotMatch(second.stdout(), /"level":50/, 'the restarted server logged an error');
        t.diagnostic(`finished ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill; ${outcome.reads} reads of AWSCURRENT; ${orphans.length} recorded function process(es) outlived the kill; steps (from the kill) ${summary(steps, killedAt)}`);
        assert.deepEqual(await second.stop(), { code: 0, signal: null });
      } finally {
        if (!outcome) await watcher.stop();
        // A step in flight at the kill may have started (and recorded itself) only after it.
        for (const l of progress(progressFile)) functionPids.add(l.pid);
      }
    });
  }
});
