import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, RotateSecretCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { executionRole } from './helpers/iam.js';
import { cleanupProcesses, spawnServer, tempDir, type ServerProcess } from './helpers/process.js';
import { alive, createRotationFunction, extension as lockstepExtension, history as lockstepHistory, sleep, until, type RunEntry } from './helpers/functions.js';

/*
 * Rotation functions that misbehave, run by `lockstep serve` as python processes:
 *  - one whose setSecret hangs (and starts a child) on its first invocation: killed, with its child,
 *    at its Timeout of 1 s, and retried; the rotation completes;
 *  - one that prints garbage and exits non-zero, one whose handler module does not exist, one that
 *    always raises: the run fails with a readable reason, AWSCURRENT untouched, and RotationFailed
 *    in the event log. LOCKSTEP_ROTATION_MAX_ATTEMPTS=2 keeps that short.
 * The functions use only python's standard library (a small SigV4 client), so a step fits well in
 * a 1 s Timeout.
 */

const ROLE = 'arn:aws:iam::123456789012:role/rotation';
const OLD_PASSWORD = 'original-password-7f3c9a1e';

/** A Secrets Manager client from the standard library, on the runtime's endpoint and credentials. */
const SM_CLIENT = `
import datetime, hashlib, hmac, json, os, urllib.error, urllib.parse, urllib.request

def sm(op, payload):
    url = os.environ["AWS_ENDPOINT_URL"]
    region = os.environ["AWS_REGION"]
    body = json.dumps(payload).encode()
    amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {"content-type": "application/x-amz-json-1.1", "host": urllib.parse.urlparse(url).netloc,
               "x-amz-date": amz, "x-amz-target": "secretsmanager." + op}
    if os.environ.get("AWS_SESSION_TOKEN"):
        headers["x-amz-security-token"] = os.environ["AWS_SESSION_TOKEN"]
    names = sorted(headers)
    canonical = "\\n".join(["POST", "/", "", "".join("%s:%s\\n" % (n, headers[n]) for n in names), ";".join(names),
                           hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/secretsmanager/aws4_request" % (amz[:8], region)
    to_sign = "\\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + os.environ["AWS_SECRET_ACCESS_KEY"]).encode()
    for part in (amz[:8], region, "secretsmanager", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        os.environ["AWS_ACCESS_KEY_ID"], scope, ";".join(names), signature)
    req = urllib.request.Request(url + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            return json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:
        err = json.loads(e.read() or b"{}")
        raise LookupError(err.get("__type", "").split("#")[-1]) if e.code == 400 and "ResourceNotFound" in err.get("__type", "") \\
            else RuntimeError("%s failed: %s" % (op, err))
`;

/**
 * Rotates a password; setSecret hangs on its first invocation (sleeping 30 s, with a child process
 * that sleeps too) and records the pids, so the test can check that the Timeout killed both.
 */
const HANGING = `${SM_CLIENT}
import secrets, subprocess, sys, time

def lambda_handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    with open(os.environ["ATTEMPTS_FILE"], "a+") as f:
        f.seek(0)
        before = [l.split()[0] for l in f.read().splitlines()]
        f.write("%s %d\\n" % (step, os.getpid()))
    if step == "createSecret":
        try:
            sm("GetSecretValue", {"SecretId": arn, "VersionId": token, "VersionStage": "AWSPENDING"})
        except LookupError:
            value = json.loads(sm("GetSecretValue", {"SecretId": arn})["SecretString"])
            value["password"] = secrets.token_hex(16)
            sm("PutSecretValue", {"SecretId": arn, "ClientRequestToken": token, "SecretString": json.dumps(value), "VersionStages": ["AWSPENDING"]})
    elif step == "setSecret":
        if "setSecret" not in before:
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
            with open(os.environ["PIDS_FILE"], "w") as f:
                f.write("%d %d\\n" % (os.getpid(), child.pid))
            time.sleep(30)
    elif step == "finishSecret":
        stages = sm("DescribeSecret", {"SecretId": arn})["VersionIdsToStages"]
        current = [v for v, s in stages.items() if "AWSCURRENT" in s][0]
        if current != token:
            sm("UpdateSecretVersionStage", {"SecretId": arn, "VersionStage": "AWSCURRENT", "MoveToVersionId": token, "RemoveFromVersionId": current})
`;

/** Prints garbage (control bytes, invalid UTF-8, half a JSON document) and exits with status 3. */
const GARBAGE = `
import os, sys

def lambda_handler(event, context):
    sys.stdout.write('{"ok": true, "payload": "\\x00\\x01\\x1b[31m' * 20 + '\\n')
    sys.stdout.flush()
    sys.stdout.buffer.write(bytes(range(256)) * 4)
    sys.stdout.buffer.flush()
    os._exit(3)
`;

/** Raises on every step. */
const ALWAYS_FAILS = `
def lambda_handler(event, context):
    raise RuntimeError("the database refused the new password for step " + event["Step"])
`;

interface EventEntry { EventId: number; Type: string; SecretArn?: string; Detail: Record<string, unknown> }

/** A `lockstep serve` child with its clients. */
interface Srv {
  p: ServerProcess;
  sm: SecretsManagerClient;
  lambda: LambdaClient;
}

async function startSrv(maxAttempts: number): Promise<Srv> {
  const p = await spawnServer({
    env: {
      LOCKSTEP_ROTATION_MAX_ATTEMPTS: String(maxAttempts),
      LOCKSTEP_ROTATION_RETRY_BASE_MS: '200',
      LOCKSTEP_ROTATION_TICK_MS: '500',
    },
  });
  const lambda = new LambdaClient({ endpoint: p.url, region: 'us-east-1', credentials: { ...p.readCredentials() }, maxAttempts: 1 });
  await executionRole(p.url, p.readCredentials(), 'rotation');
  return { p, sm: p.client(), lambda };
}

// The hanging function gets a server that allows a few attempts per step, so a slow start of one of
// its other steps (under load) cannot end its run; the failing functions get MAX_ATTEMPTS=2.
let hangSrv: Srv;
let failSrv: Srv;
let work: string;

before(async () => {
  work = tempDir('lockstep-rottimeout-');
  [hangSrv, failSrv] = await Promise.all([startSrv(4), startSrv(2)]);
});
after(async () => {
  hangSrv?.lambda.destroy();
  failSrv?.lambda.destroy();
  await cleanupProcesses();
});

const extension = (srv: Srv, op: string, input: Record<string, unknown>) => lockstepExtension(srv.p, op, input);
const history = (srv: Srv, secretId: string) => lockstepHistory(srv.p, secretId);

function createFunction(srv: Srv, name: string, opts: { code: Record<string, string>; handler: string; timeout: number; env?: Record<string, string> }) {
  return createRotationFunction(srv.lambda, { name, role: ROLE, ...opts });
}

async function createSecret(srv: Srv, name: string) {
  const out = await srv.sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ username: 'app', password: OLD_PASSWORD }) }));
  return { arn: out.ARN!, firstVersion: out.VersionId! };
}

/** Waits for the secret's run to leave 'running'. */
async function finishedRun(srv: Srv, secretId: string, timeoutMs = 20_000): Promise<RunEntry> {
  let last: RunEntry[] = [];
  try {
    return await until('the run to finish', timeoutMs, async () => {
      last = await history(srv, secretId);
      return last[0] && last[0].State !== 'running' ? last[0] : undefined;
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}`);
  }
}

/** AWSCURRENT is still the first version with its value, and no AWSPENDING (nor a valueless placeholder) is left. */
async function assertUntouched(srv: Srv, secret: { arn: string; firstVersion: string }) {
  const now = await srv.sm.send(new GetSecretValueCommand({ SecretId: secret.arn }));
  assert.equal(now.VersionId, secret.firstVersion, 'AWSCURRENT moved');
  assert.deepEqual(JSON.parse(now.SecretString!), { username: 'app', password: OLD_PASSWORD }, 'AWSCURRENT value changed');
  const versions = (await srv.sm.send(new ListSecretVersionIdsCommand({ SecretId: secret.arn, IncludeDeprecated: true }))).Versions ?? [];
  assert.deepEqual(
    versions.map((v) => [v.VersionId, [...(v.VersionStages ?? [])].sort()]),
    [[secret.firstVersion, ['AWSCURRENT']]],
    'the versions after the failed rotation',
  );
}

/** A failure reason a person can read: printable text, no control bytes, not empty, not truncated garbage. */
function assertReadable(text: string | undefined, what: string) {
  assert.ok(text && text.trim().length > 0, `${what}: no reason`);
  assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/, `${what}: control or replacement characters in ${JSON.stringify(text)}`);
}

describe('rotation functions that hang, crash or cannot load', { concurrency: true }, () => {
  test('a setSecret that hangs is killed (with its child) at the 1 s Timeout, and retried to success', async (t) => {
    const attemptsFile = join(work, 'hang-attempts');
    const pidsFile = join(work, 'hang-pids');
    const fn = await createFunction(hangSrv, 'hanging-rotator', {
      code: { 'rotator.py': HANGING }, handler: 'rotator.lambda_handler', timeout: 1,
      env: { ATTEMPTS_FILE: attemptsFile, PIDS_FILE: pidsFile },
    });
    const secret = await createSecret(hangSrv, 'timeout/hanging');
    const rotated = await hangSrv.sm.send(new RotateSecretCommand({ SecretId: secret.arn, RotationLambdaARN: fn }));
    const token = rotated.VersionId!;

    // As soon as the timed-out attempt is journaled, the hung process and its child are gone.
    const failed = await until('setSecret attempt 1 to be journaled as failed', 15_000, async () => {
      const runs = await history(hangSrv, secret.arn);
      return runs[0]?.Steps.find((s) => s.Step === 'setSecret' && s.Outcome === 'failed');
    });
    assert.ok(existsSync(pidsFile), 'the hanging invocation never recorded its pids');
    const pids = readFileSync(pidsFile, 'utf8').trim().split(' ').map(Number);
    assert.equal(pids.length, 2);
    assert.deepEqual(pids.filter(alive), [], `processes of the timed-out invocation still running: ${pids.join(', ')} (handler, child)`);

    const run = await finishedRun(hangSrv, secret.arn);
    assert.equal(run.State, 'succeeded', `the rotation did not complete: ${JSON.stringify(run)}`);
    assert.equal(run.Token, token);

    const setSteps = run.Steps.filter((s) => s.Step === 'setSecret');
    assert.equal(setSteps[0].Attempt, 1);
    assert.equal(setSteps[0].Outcome, 'failed', `setSecret attempt 1: ${JSON.stringify(setSteps)}`);
    assert.match(setSteps[0].Error ?? '', /Task timed out after 1\.00 seconds/, 'the timeout reason of setSecret attempt 1');
    assertReadable(setSteps[0].Error, 'the timeout reason');
    assert.deepEqual(failed, setSteps[0]);
    // Killed at the Timeout, not at the end of its 30 s sleep.
    assert.ok(setSteps[0].DurationMs >= 1000 && setSteps[0].DurationMs < 5000, `the hung attempt lasted ${setSteps[0].DurationMs} ms`);
    const later = setSteps.slice(1);
    assert.ok(later.some((s) => s.Outcome === 'succeeded' && s.Attempt > 1), `no later setSecret attempt succeeded: ${JSON.stringify(setSteps)}`);
    for (const step of ['createSecret', 'testSecret', 'finishSecret']) {
      assert.ok(run.Steps.some((s) => s.Step === step && s.Outcome === 'succeeded'), `${step} never succeeded: ${JSON.stringify(run.Steps)}`);
    }
    const invoked = readFileSync(attemptsFile, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    // The first setSecret invocation hung; the step was invoked again (exactly once more, unless a retry was slow too).
    assert.ok(invoked.filter((s) => s === 'setSecret').length >= 2, `setSecret invocations: ${invoked.join(', ')}`);
    assert.equal(invoked.filter((s) => s === 'setSecret').length, setSteps.length, 'setSecret invocations and journaled attempts differ');

    const now = await hangSrv.sm.send(new GetSecretValueCommand({ SecretId: secret.arn }));
    assert.equal(now.VersionId, token);
    assert.notEqual(JSON.parse(now.SecretString!).password, OLD_PASSWORD);
    const versions = (await hangSrv.sm.send(new ListSecretVersionIdsCommand({ SecretId: secret.arn, IncludeDeprecated: true }))).Versions ?? [];
    assert.ok(!versions.some((v) => v.VersionStages?.includes('AWSPENDING')), 'AWSPENDING left behind');
    assert.deepEqual(pids.filter(alive), []);
    t.diagnostic(run.Steps.map((s) => `${s.Step}#${s.Attempt}:${s.Outcome}+${s.DurationMs}ms`).join(' '));
  });

  test('a function that prints garbage and exits non-zero fails the run with a readable reason', async (t) => {
    const fn = await createFunction(failSrv, 'garbage-rotator', { code: { 'rotator.py': GARBAGE }, handler: 'rotator.lambda_handler', timeout: 10 });
    const secret = await createSecret(failSrv, 'timeout/garbage');
    await failSrv.sm.send(new RotateSecretCommand({ SecretId: secret.arn, RotationLambdaARN: fn }));
    const run = await finishedRun(failSrv, secret.arn);
    assert.equal(run.State, 'failed', JSON.stringify(run));
    assert.deepEqual(run.Steps.map((s) => [s.Step, s.Attempt, s.Outcome]), [['createSecret', 1, 'failed'], ['createSecret', 2, 'failed']]);
    for (const s of run.Steps) {
      assert.match(s.Error ?? '', /Runtime\.ExitError.*exit status 3/, 'the reason names the exit status');
      assertReadable(s.Error, `createSecret attempt ${s.Attempt}`);
    }
    assert.match(run.LastError ?? '', /^createSecret failed after 2 attempt\(s\): Runtime\.ExitError.*exit status 3/);
    assertReadable(run.LastError, 'LastError');
    await assertUntouched(failSrv, secret);
    t.diagnostic(`LastError: ${run.LastError}`);
  });

  // CreateFunction refuses a handler whose module file is not in the zip, so the module that cannot
  // be found at invocation is one the handler's module imports (the same ImportModuleError path).
  test('a function whose handler module cannot be imported (a module that does not exist) fails the run with a readable reason', async (t) => {
    const fn = await createFunction(failSrv, 'missing-module-rotator', {
      code: { 'rotator.py': 'import no_such_module\n\ndef lambda_handler(event, context):\n    return None\n' },
      handler: 'rotator.lambda_handler', timeout: 10,
    });
    const secret = await createSecret(failSrv, 'timeout/missing-module');
    await failSrv.sm.send(new RotateSecretCommand({ SecretId: secret.arn, RotationLambdaARN: fn }));
    const run = await finishedRun(failSrv, secret.arn);
    assert.equal(run.State, 'failed', JSON.stringify(run));
    assert.deepEqual(run.Steps.map((s) => [s.Step, s.Outcome]), [['createSecret', 'failed'], ['createSecret', 'failed']]);
    const reason = /Runtime\.ImportModuleError: Unable to import module 'rotator': No module named 'no_such_module'/;
    for (const s of run.Steps) {
      assert.match(s.Error ?? '', reason);
      assertReadable(s.Error, `createSecret attempt ${s.Attempt}`);
    }
    assert.match(run.LastError ?? '', new RegExp(`^createSecret failed after 2 attempt\\(s\\): ${reason.source}`));
    await assertUntouched(failSrv, secret);
    t.diagnostic(`LastError: ${run.LastError}`);
  });

  test('a function that always fails ends as RotationFailed in Lockstep.ListEvents', async () => {
    const fn = await createFunction(failSrv, 'failing-rotator', { code: { 'rotator.py': ALWAYS_FAILS }, handler: 'rotator.lambda_handler', timeout: 10 });
    const secret = await createSecret(failSrv, 'timeout/always-fails');
    const rotated = await failSrv.sm.send(new RotateSecretCommand({ SecretId: secret.arn, RotationLambdaARN: fn }));
    const t0 = Date.now();
    const events = await until('RotationFailed in the event log', 20_000, async () => {
      const ev = (await extension(failSrv, 'ListEvents', { SecretId: secret.arn })).Events as EventEntry[];
      return ev.some((e) => e.Type === 'RotationFailed') ? ev : undefined;
    });
    const rotationEvents = events.filter((e) => e.Type.startsWith('Rotation'));
    assert.deepEqual(rotationEvents.map((e) => e.Type), ['RotationStarted', 'RotationFailed'], JSON.stringify(events));
    const failed = rotationEvents[1];
    assert.equal(failed.SecretArn, secret.arn);
    assert.equal(failed.Detail.token, rotated.VersionId);
    assert.match(String(failed.Detail.error), /^createSecret failed after 2 attempt\(s\): RuntimeError: the database refused the new password for step createSecret/);
    assertReadable(String(failed.Detail.error), 'the RotationFailed error');
    assert.ok(Date.now() - t0 < 15_000, 'two attempts took too long');

    const run = (await history(failSrv, secret.arn))[0];
    assert.equal(run.State, 'failed');
    assert.equal(run.Steps.length, 2, `exactly LOCKSTEP_ROTATION_MAX_ATTEMPTS=2 attempts: ${JSON.stringify(run.Steps)}`);
    await assertUntouched(failSrv, secret);
    // Nothing is retried once the run has failed.
    await sleep(1200);
    assert.equal((await history(failSrv, secret.arn))[0].Steps.length, 2, 'the failed run was invoked again');
  });

});

test('the servers survived all of it and stop cleanly', async () => {
  for (const srv of [hangSrv, failSrv]) {
    assert.ok(srv.p.running(), 'a server exited');
    assert.equal((await fetch(`${srv.p.url}/health`)).status, 200);
    assert.doesNotMatch(srv.p.stdout(), /"level":50/, 'a server logged an error');
    assert.deepEqual(await srv.p.stop(), { code: 0, signal: null });
  }
});
