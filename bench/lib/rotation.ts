// Part 4: Rotation — rotations per second through the engine with a trivial module function (in-process)
// and a trivial python function (process runtime, boto3), and the scheduler's tick over 100,000
// scheduled secrets.
//
// Unlike parts 1-3 the server runs in this process (startLockstep), because module functions are
// in-process JS handlers; the trivial handler still talks to the server through the AWS SDK over HTTP,
// as a real rotation function would. The python function runs as the server's own child processes.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { strToU8, zipSync } from 'fflate';
import { AddPermissionCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand, PutSecretValueCommand, RotateSecretCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { rootArn, type Principal } from '../../src/auth/principal.js';
import { runOperation } from '../../src/iam/operation.js';
import { iamOperations } from '../../src/iam/service.js';
import type { Lockstep } from '../../src/server/app.js';
import type { RotationEvent } from '../../src/rotation/registry.js';
import type { Store } from '../../src/storage/types.js';
import type { Creds } from './sign.js';
import { log, median, pct, pool, since } from './stats.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ROLE_NAME = 'bench-rotation';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One rotation throughput measurement (parts 4.1 and 4.2). */
export interface RotationThroughput {
  runtime: 'module' | 'python';
  /** Rotations measured (RotateSecret calls made). */
  rotations: number;
  succeeded: number;
  failed: number;
  firstError?: string;
  /**
   * module: RotateSecret calls in flight (the engine executes up to 16 runs at once and queues the rest).
   * python: rotations in flight (the next RotateSecret waits for a rotation to finish).
   */
  concurrency: number;
  /** From the first RotateSecret call to the last RotationSucceeded event. */
  seconds: number;
  rotationsPerS: number;
  /** Per rotation: RotateSecret call to its RotationSucceeded event (the event's own timestamp). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The RotateSecret call alone (until its response). */
  rotateCallP50Ms: number;
  rotateCallP99Ms: number;
  /** CPU of this process (server, engine, module function, SDK clients), % of one core. */
  processCpuPct: number;
  /** CPU of exited child processes (python function invocations), % of one core. */
  childCpuPct: number;
  /** python: the rate over the first rotations, which set how many were run. */
  probe?: { rotations: number; seconds: number; ratePerS: number; wanted: number; projectedSecondsForWanted: number };
}

export interface TickTiming {
  p50Ms: number;
  samplesMs: number[];
  /** The tick's first transaction alone (dueSecrets, and startRun for each due secret). */
  startTxP50Ms: number;
  startTxSamplesMs: number[];
}

/** Part 4.3: engine.tick() with many scheduled secrets. */
export interface TickResult {
  secrets: number;
  seedSeconds: number;
  /** Nothing due: the scheduler's steady state. */
  idle: TickTiming;
  /** 100 secrets due: the tick starts 100 rotations (its per-pass limit). */
  due: TickTiming & { dueSecrets: number; startedPerTick: number[]; rotationsSucceeded: number; rotationsFailed: number };
}

export interface RotationResult {
  module: RotationThroughput;
  python: RotationThroughput | { skipped: string };
  tick: TickResult;
  seconds: number;
}

export interface RotationOptions {
  dataDir: (name: string) => string;
  creds: Creds;
  /** Secrets rotated with the module function (and the most the python part rotates). */
  rotations: number;
  /** RotateSecret calls in flight for the module function. */
  concurrency: number;
  /** Seconds the python part may take; fewer rotations are run when the probe says it would take longer. */
  pythonBudgetS: number;
  /** Rotations in flight for the python function. */
  pythonConcurrency: number;
  tickSecrets: number;
  tickRepeats: number;
}

// ------------------------------------------------------------------------------------- the functions

/**
 * The trivial module function, in the shape of AWS's templates: createSecret stores a new value under
 * the token as AWSPENDING, finishSecret moves AWSCURRENT to it; setSecret and testSecret do nothing.
 */
function trivialModuleFunction(sm: () => SecretsManagerClient) {
  return async (event: RotationEvent) => {
    const { SecretId, ClientRequestToken: token } = event;
    if (event.Step === 'createSecret') {
      await sm().send(new PutSecretValueCommand({
        SecretId, ClientRequestToken: token, SecretString: JSON.stringify({ password: randomUUID() }), VersionStages: ['AWSPENDING'],
      }));
    } else if (event.Step === 'finishSecret') {
      const d = await sm().send(new DescribeSecretCommand({ SecretId }));
      const current = Object.entries(d.VersionIdsToStages ?? {}).find(([, st]) => st.includes('AWSCURRENT'))?.[0];
      if (current === token) return;
      await sm().send(new UpdateSecretVersionStageCommand({ SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }));
    }
  };
}

/** The same function in python with boto3, imported at the top as real rotation functions do. */
const TRIVIAL_PY = `
import json, uuid
import boto3

def lambda_handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step == "createSecret":
        sm = boto3.client("secretsmanager")
        sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps({"password": uuid.uuid4().hex}), VersionStages=["AWSPENDING"])
    elif step == "finishSecret":
        sm = boto3.client("secretsmanager")
        meta = sm.describe_secret(SecretId=arn)
        current = next((v for v, st in meta["VersionIdsToStages"].items() if "AWSCURRENT" in st), None)
        if current != token:
            kw = {"RemoveFromVersionId": current} if current else {}
            sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, **kw)
`;

// --------------------------------------------------------------------------------------- the server

interface InProc {
  app: Lockstep;
  sm: SecretsManagerClient;
  trivialArn: string;
  events: EventWatcher;
  close(): Promise<void>;
}

/** A Lockstep server in this process, with the trivial module function registered. */
export async function startInProcess(dataDir: string, creds: Creds, rotation: Record<string, number> = {}): Promise<InProc> {
  const { startLockstep } = await import('../../src/server/app.js');
  let fnClient: SecretsManagerClient | undefined;
  const app = await startLockstep({
    port: 0, host: '127.0.0.1', dataDir, region: REGION, accountId: ACCOUNT,
    env: { LOCKSTEP_ROOT_ACCESS_KEY_ID: creds.accessKeyId, LOCKSTEP_ROOT_SECRET_ACCESS_KEY: creds.secretAccessKey },
    moduleFunctions: { trivial: trivialModuleFunction(() => fnClient!) },
    rotation,
  });
  // The function's own client, as a Lambda function would have one (its own connections: the SDK's
  // default of 50 sockets, which every rotation in flight shares; its warning when calls queue for a
  // socket is turned off, as queueing is expected here). Both clients keep the SDK's default retries:
  // a keep-alive socket the server closes after 5 s idle just as it is reused fails with "socket hang
  // up", which the SDK retries (the python part, one RotateSecret per ~5 s per worker, meets that race).
  const requestHandler = { socketAcquisitionWarningTimeout: 3_600_000 };
  fnClient = new SecretsManagerClient({ endpoint: app.url, region: REGION, credentials: creds, requestHandler });
  const sm = new SecretsManagerClient({ endpoint: app.url, region: REGION, credentials: creds, requestHandler });
  const events = new EventWatcher(app.ctx.store);
  events.start();
  return {
    app, sm, events,
    trivialArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:trivial`,
    async close() {
      await events.stop();
      sm.destroy();
      fnClient?.destroy();
      await app.close();
    },
  };
}

/** Creates `n` secrets named prefix/NNNNNN with the server's own code (not measured). */
async function createSecrets(app: Lockstep, prefix: string, n: number): Promise<string[]> {
  const { operations } = await import('../../src/secrets/service.js');
  const names = Array.from({ length: n }, (_, i) => `${prefix}/${String(i).padStart(6, '0')}`);
  for (let i = 0; i < n; i += 256) {
    await Promise.all(names.slice(i, i + 256).map((Name) =>
      operations.CreateSecret(app.ctx, { Name, SecretString: JSON.stringify({ password: randomUUID() }), ClientRequestToken: randomUUID() })));
  }
  return names;
}

interface Finished {
  type: 'RotationSucceeded' | 'RotationFailed';
  timeMs: number;
  error?: string;
}

/**
 * Follows the server's event log (the store's events, what Lockstep.ListEvents returns) and records
 * how each rotation (by token) finished and when, by the event's own timestamp.
 */
class EventWatcher {
  private after = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly waiters = new Map<string, (f: Finished) => void>();
  readonly finished = new Map<string, Finished>();
  counts = { started: 0, succeeded: 0, failed: 0 };
  pollError: string | undefined;

  constructor(private readonly store: Store, private readonly pollMs = 25) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          const n = await this.poll();
          if (n < 1000) await sleep(this.pollMs);
        } catch (e) {
          this.pollError = (e as Error).message;
          await sleep(200);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Reads the next page of events; returns how many came. */
  async poll(): Promise<number> {
    const events = await this.store.read((tx) => tx.events.list({ afterId: this.after, limit: 1000 }));
    for (const e of events) {
      this.after = Math.max(this.after, e.id);
      if (e.type === 'RotationStarted') this.counts.started++;
      if (e.type !== 'RotationSucceeded' && e.type !== 'RotationFailed') continue;
      if (e.type === 'RotationSucceeded') this.counts.succeeded++;
      else this.counts.failed++;
      const d = JSON.parse(e.detail) as { token?: string; error?: string };
      const f: Finished = { type: e.type, timeMs: e.timeMs, ...(d.error ? { error: d.error } : {}) };
      if (!d.token) continue;
      this.finished.set(d.token, f);
      this.waiters.get(d.token)?.(f);
      this.waiters.delete(d.token);
    }
    return events.length;
  }

  /** How the rotation under `token` finished, once it has. */
  wait(token: string, timeoutMs: number): Promise<Finished> {
    const done = this.finished.get(token);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(token);
        reject(new Error(`rotation ${token} did not finish within ${timeoutMs / 1000} s${this.pollError ? ` (${this.pollError})` : ''}`));
      }, timeoutMs);
      this.waiters.set(token, (f) => {
        clearTimeout(t);
        resolve(f);
      });
    });
  }

  /** Waits until `pred` holds of the counts. */
  async until(what: string, pred: (c: EventWatcher['counts']) => boolean, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.counts)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${JSON.stringify(this.counts)})`);
      await sleep(10);
    }
  }
}

// ----------------------------------------------------------------------------------- CPU accounting

/** utime+stime and cutime+cstime (exited, waited-for children) of this process, in seconds. */
function selfCpu(): { self: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { self: (f[11] + f[12]) / 100, children: (f[13] + f[14]) / 100 };
}

function summarise(
  runtime: 'module' | 'python',
  concurrency: number,
  calls: Map<string, { startMs: number; callMs: number }>,
  finished: Map<string, Finished>,
  errors: string[],
  cpu0: { self: number; children: number },
): RotationThroughput {
  const lat: number[] = [];
  let failed = errors.length;
  let firstError = errors[0];
  let first = Infinity;
  let last = -Infinity;
  for (const [token, c] of calls) {
    first = Math.min(first, c.startMs);
    const f = finished.get(token);
    if (!f || f.type !== 'RotationSucceeded') {
      failed++;
      firstError ??= f?.error ?? `rotation ${token} did not finish`;
      continue;
    }
    lat.push(f.timeMs - c.startMs);
    last = Math.max(last, f.timeMs);
  }
  const seconds = (last - first) / 1000;
  const cpu = selfCpu();
  const callMs = [...calls.values()].map((c) => c.callMs);
  return {
    runtime, rotations: calls.size + errors.length, succeeded: lat.length, failed, ...(firstError ? { firstError } : {}),
    concurrency, seconds, rotationsPerS: lat.length / seconds,
    p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), maxMs: Math.max(...lat),
    rotateCallP50Ms: pct(callMs, 50), rotateCallP99Ms: pct(callMs, 99),
    processCpuPct: ((cpu.self - cpu0.self) / seconds) * 100,
    childCpuPct: ((cpu.children - cpu0.children) / seconds) * 100,
  };
}

function logThroughput(r: RotationThroughput): void {
  log(
    `${r.runtime} function: ${r.succeeded} rotations ok, ${r.failed} failed in ${r.seconds.toFixed(1)} s = ${r.rotationsPerS.toFixed(1)}/s ` +
      `(p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms; RotateSecret call p50 ${r.rotateCallP50Ms.toFixed(1)} ms; ` +
      `CPU ${r.processCpuPct.toFixed(0)}% + children ${r.childCpuPct.toFixed(0)}%)${r.firstError ? `; first error: ${r.firstError}` : ''}`,
  );
}

/** One RotateSecret call; records its start time and duration under its token. */
async function rotate(s: InProc, name: string, functionArn: string, calls: Map<string, { startMs: number; callMs: number }>): Promise<string> {
  const token = randomUUID();
  const startMs = Date.now();
  const t = performance.now();
  await s.sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: functionArn, ClientRequestToken: token }));
  calls.set(token, { startMs, callMs: performance.now() - t });
  return token;
}

// ----------------------------------------------------------------------------- 4.1 module function

export async function moduleThroughput(s: InProc, n: number, concurrency: number): Promise<RotationThroughput> {
  const names = await createSecrets(s.app, 'bench/rot/module', n + 1);
  // One untimed rotation: SDK start-up and the first prepared statements are not measured.
  const warm = new Map<string, { startMs: number; callMs: number }>();
  await s.events.wait(await rotate(s, names[n], s.trivialArn, warm), 30_000);

  const calls = new Map<string, { startMs: number; callMs: number }>();
  const cpu0 = selfCpu();
  log(`rotating ${n} secrets with the module function (${concurrency} RotateSecret calls in flight)`);
  const r = await pool(n, concurrency, async (i) => {
    await rotate(s, names[i], s.trivialArn, calls);
  });
  await Promise.all([...calls.keys()].map((t) => s.events.wait(t, 120_000).catch(() => undefined)));
  const out = summarise('module', concurrency, calls, s.events.finished, r.errors, cpu0);
  logThroughput(out);
  return out;
}

// ----------------------------------------------------------------------------- 4.2 python function

function pythonMissing(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('python3', ['-c', 'import boto3'], { timeout: 30_000 }, (err) => {
      if (!err) resolve(undefined);
      else resolve((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'python3 is not installed' : 'boto3 is not installed for python3');
    });
  });
}

/** Creates the execution role the python function runs as: Lambda may assume it, it may use any secret. */
async function createExecutionRole(app: Lockstep): Promise<void> {
  const { store, keyring, accountId, now } = app.ctx;
  const env = { store, keyring, accountId, now, auth: app.auth };
  const caller: Principal = { accessKeyId: 'bench', principalArn: rootArn(accountId), kind: 'root', accountId, userId: accountId };
  const run = (action: string, params: Record<string, string>) =>
    runOperation(env, iamOperations[action], `iam:${action}`, caller, (n) => params[n], Object.keys(params));
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] };
  await run('CreateRole', { RoleName: ROLE_NAME, AssumeRolePolicyDocument: JSON.stringify(trust) });
  await run('PutRolePolicy', { RoleName: ROLE_NAME, PolicyName: 'secrets', PolicyDocument: JSON.stringify(policy) });
}

async function pythonThroughput(s: InProc, creds: Creds, max: number, budgetS: number, concurrency: number): Promise<RotationThroughput> {
  await createExecutionRole(s.app);
  const lambda = new LambdaClient({ endpoint: s.app.url, region: REGION, credentials: creds, maxAttempts: 1 });
  let arn: string;
  try {
    const fn = await lambda.send(new CreateFunctionCommand({
      FunctionName: 'trivial-py', Runtime: 'python3.12', Role: ROLE, Handler: 'rotator.lambda_handler', Timeout: 60,
      Code: { ZipFile: zipSync({ 'rotator.py': strToU8(TRIVIAL_PY) }) },
    }));
    arn = fn.FunctionArn!;
    await lambda.send(new AddPermissionCommand({
      FunctionName: 'trivial-py', StatementId: 'secretsmanager', Action: 'lambda:InvokeFunction', Principal: 'secretsmanager.amazonaws.com',
    }));
  } finally {
    lambda.destroy();
  }
  const names = await createSecrets(s.app, 'bench/rot/python', max + 1);
  const warm = new Map<string, { startMs: number; callMs: number }>();
  const w = await s.events.wait(await rotate(s, names[max], arn, warm), 60_000);
  if (w.type !== 'RotationSucceeded') throw new Error(`the python rotation function failed: ${w.error}`);

  // Closed loop: `concurrency` rotations in flight, the next RotateSecret once one has finished. (All at
  // once would have the engine start a python process for every one of them at the same moment.)
  const calls = new Map<string, { startMs: number; callMs: number }>();
  const errors: string[] = [];
  const cpu0 = selfCpu();
  const t0 = process.hrtime.bigint();
  let target = max;
  let next = 0;
  let done = 0;
  let probe: RotationThroughput['probe'];
  const decide = () => {
    if (probe) return;
    const el = since(t0);
    if (done < 50 && !(el >= 10 && done >= 4)) return;
    const rate = done / el;
    const wanted = Math.min(max, Math.floor(rate * budgetS));
    target = Math.max(next, wanted);
    probe = { rotations: done, seconds: el, ratePerS: rate, wanted: max, projectedSecondsForWanted: max / rate };
    log(`python probe: ${done} rotations in ${el.toFixed(1)} s = ${rate.toFixed(2)}/s; ${max} would take ~${(max / rate).toFixed(0)} s, running ${target}`);
  };
  log(`rotating up to ${max} secrets with the python function (${concurrency} rotations in flight, ~${budgetS} s budget)`);
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < target) {
      const i = next++;
      try {
        const token = await rotate(s, names[i], arn, calls);
        await s.events.wait(token, 120_000);
      } catch (e) {
        errors.push((e as Error).message);
      }
      done++;
      decide();
    }
  }));
  const out = summarise('python', concurrency, calls, s.events.finished, errors, cpu0);
  out.probe = probe;
  logThroughput(out);
  return out;
}

// ------------------------------------------------------------------------------------ 4.3 the tick

export async function tickTimes(opts: RotationOptions): Promise<TickResult> {
  // The scheduler's own timer is set far out, so only the ticks called here run.
  const s = await startInProcess(opts.dataDir('rotation-tick'), opts.creds, { tickMs: 3_600_000 });
  try {
    const { app } = s;
    const { sealFor, DEFAULT_KMS_KEY } = await import('../../src/secrets/context.js');
    const { randomSuffix } = await import('../../src/secrets/names.js');
    const n = opts.tickSecrets;
    const batches = opts.tickRepeats + 1; // one warm-up tick, not counted
    const dueCount = 100;
    const t0 = process.hrtime.bigint();
    const now = Date.now();
    const DAY = 86_400_000;
    // The secrets made due below: for each tick a different 100, spread over the table.
    const stride = Math.max(1, Math.floor(n / (dueCount * batches)));
    const dueIndex = (b: number, k: number) => ((k * batches + b) * stride) % n;
    const willBeDue = new Set<number>();
    for (let b = 0; b < batches; b++) for (let k = 0; k < dueCount; k++) willBeDue.add(dueIndex(b, k));
    // Every secret rotates every 30 days, due at some point over the next 29 days. The ones made due get an
    // AWSCURRENT value, so that they rotate for real; the others have no version (the tick reads only the
    // secrets table, and sealing 100,000 values would make most of the seeding time).
    const ids: number[] = [];
    await app.ctx.store.transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        const name = `bench/tick/${String(i).padStart(7, '0')}`;
        const arn = `${app.ctx.arnPrefix}${name}-${randomSuffix()}`;
        const dueMs = now + 3_600_000 + Math.floor((i / n) * 29 * DAY);
        const dayStart = dueMs - (dueMs % DAY);
        const id = await tx.secrets.insertSecret({
          arn, name, description: null, kmsKeyId: null, createdMs: now, lastChangedMs: now, lastAccessedMs: null,
          deletedMs: null, deletionMs: null, rotationEnabled: true, rotationLambdaArn: s.trivialArn,
          rotationRules: JSON.stringify({ AutomaticallyAfterDays: 30 }), lastRotatedMs: now,
          nextRotationMs: dayStart + DAY - 1000, rotationDueMs: dueMs,
          owningService: null, primaryRegion: REGION, resourcePolicy: null, tagged: false,
        });
        ids.push(id);
        if (!willBeDue.has(i)) continue;
        const versionId = randomUUID();
        await tx.secrets.insertVersion(id, {
          versionId, createdMs: now, lastAccessedMs: null, kmsKeyIds: [DEFAULT_KMS_KEY], stages: [],
          sealed: sealFor(app.ctx, arn, versionId, { kind: 'string', text: JSON.stringify({ password: randomUUID() }) }),
        });
        await tx.secrets.setLabels(id, new Map([['AWSCURRENT', versionId]]));
      }
    });
    const seedSeconds = since(t0);
    log(`seeded ${n} scheduled secrets (AutomaticallyAfterDays 30, none due) in one transaction in ${seedSeconds.toFixed(1)} s`);

    // The tick's own first transaction (find the due secrets, start their runs) is timed apart from the
    // whole tick: the instance's transaction() is wrapped for the first call made once the tick begins.
    const store = app.ctx.store;
    const transaction = store.transaction.bind(store);
    let capture = false;
    let startTxMs = NaN;
    (store as { transaction: Store['transaction'] }).transaction = async (fn) => {
      if (!capture) return transaction(fn);
      capture = false;
      const a = performance.now();
      try {
        return await transaction(fn);
      } finally {
        startTxMs = performance.now() - a;
      }
    };
    const timeTick = async () => {
      capture = true;
      const a = performance.now();
      await app.engine.tick();
      return { ms: performance.now() - a, txMs: startTxMs };
    };
    const timing = (xs: { ms: number; txMs: number }[]): TickTiming => ({
      p50Ms: median(xs.map((x) => x.ms)), samplesMs: xs.map((x) => x.ms),
      startTxP50Ms: median(xs.map((x) => x.txMs)), startTxSamplesMs: xs.map((x) => x.txMs),
    });
    const idle: { ms: number; txMs: number }[] = [];
    await timeTick();
    for (let i = 0; i < opts.tickRepeats; i++) idle.push(await timeTick());
    if (s.events.counts.started !== 0) throw new Error(`a tick with nothing due started ${s.events.counts.started} rotations`);
    log(`tick, none due: p50 ${median(idle.map((x) => x.ms)).toFixed(2)} ms of [${idle.map((x) => x.ms.toFixed(2)).join(', ')}]`);

    // For each tick a different 100 secrets become due a minute ago.
    const due: { ms: number; txMs: number }[] = [];
    const startedPerTick: number[] = [];
    for (let b = 0; b < batches; b++) {
      const batch = Array.from({ length: dueCount }, (_, k) => ids[dueIndex(b, k)]);
      await app.ctx.store.transaction(async (tx) => {
        for (const id of batch) await tx.secrets.updateSecret(id, { rotationDueMs: Date.now() - 60_000 });
      });
      const before = { ...s.events.counts };
      const t = await timeTick();
      await s.events.until('the due rotations to finish', (c) => c.succeeded + c.failed >= before.succeeded + before.failed + dueCount, 60_000);
      startedPerTick.push(s.events.counts.started - before.started);
      if (b > 0) due.push(t);
    }
    log(
      `tick, ${dueCount} due: p50 ${median(due.map((x) => x.ms)).toFixed(2)} ms of [${due.map((x) => x.ms.toFixed(2)).join(', ')}] ` +
        `(its start transaction: p50 ${median(due.map((x) => x.txMs)).toFixed(2)} ms); started ${startedPerTick.join(', ')}`,
    );
    return {
      secrets: n, seedSeconds,
      idle: timing(idle),
      due: {
        ...timing(due), dueSecrets: dueCount, startedPerTick: startedPerTick.slice(1),
        rotationsSucceeded: s.events.counts.succeeded, rotationsFailed: s.events.counts.failed,
      },
    };
  } finally {
    await s.close();
  }
}

// ------------------------------------------------------------------------------------------- part 4

export async function runRotation(opts: RotationOptions): Promise<RotationResult> {
  const t0 = process.hrtime.bigint();
  let module: RotationThroughput;
  let python: RotationThroughput | { skipped: string };
  const s = await startInProcess(opts.dataDir('rotation'), opts.creds);
  try {
    module = await moduleThroughput(s, opts.rotations, opts.concurrency);
    const missing = await pythonMissing();
    if (missing) {
      log(`python function skipped: ${missing}`);
      python = { skipped: missing };
    } else {
      python = await pythonThroughput(s, opts.creds, opts.rotations, opts.pythonBudgetS, opts.pythonConcurrency);
    }
  } finally {
    await s.close();
  }
  const tick = await tickTimes(opts);
  return { module, python, tick, seconds: since(t0) };
}
