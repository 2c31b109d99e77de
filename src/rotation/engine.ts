import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { SecretRecord, Tx, RotationRun } from '../storage/types.js';
import { type ServiceContext, DEFAULT_KMS_KEY } from '../secrets/context.js';
import { openInTx, sealForSecret } from '../secrets/encryption-keys.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, labelMapOf } from '../secrets/labels.js';
import { type FunctionSource, type RotationEvent, resolveFunction } from './registry.js';
import { redact } from './redact.js';
import { appendAudit } from '../monitoring/audit.js';
import { nextRotationDate, nextRotationWindow, parseRotationRules, type RotationRules } from './schedule.js';

/** Tunables of the engine (tests shorten them). */
export interface EngineOptions {
  retryBaseMs?: number; // first retry delay; doubles each attempt, with jitter
  maxAttempts?: number; // attempts per step before the run fails
  leaseMs?: number; // how long a claim on a run lasts without renewal
  tickMs?: number; // how often the scheduler looks for due rotations and runs
  runWindowMs?: number; // how long an on-demand rotation keeps retrying
  maxConcurrentRuns?: number; // runs executing at once in this process; the rest wait their turn
  logger?: Logger;
}

const STEPS: RotationEvent['Step'][] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

/** The rotation engine: starts runs, invokes their steps, retries, finishes labels, and schedules. */
export class RotationEngine {
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly queued = new Map<number, boolean>(); // run id -> its backoff has been waited
  private readonly timers = new Set<NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly o: Required<Omit<EngineOptions, 'logger'>> & { logger?: Logger };

  constructor(
    private readonly ctx: ServiceContext,
    private readonly sources: FunctionSource[],
    opts: EngineOptions = {},
  ) {
    this.o = {
      retryBaseMs: opts.retryBaseMs ?? 2_000,
      maxAttempts: opts.maxAttempts ?? 5,
      leaseMs: opts.leaseMs ?? 60_000,
      tickMs: opts.tickMs ?? 30_000,
      runWindowMs: opts.runWindowMs ?? 3_600_000,
      maxConcurrentRuns: opts.maxConcurrentRuns ?? 16,
      logger: opts.logger,
    };
  }

  /** Starts the scheduler: a tick now and then every tickMs. */
  start(): void {
    const loop = () => {
      void this.tick().catch((e) => this.o.logger?.error({ err: (e as Error).name }, 'rotation tick failed'));
    };
    loop();
    this.ticker = setInterval(loop, this.o.tickMs);
    this.ticker.unref();
  }

  /**
   * Stops scheduling and gives steps in flight up to `graceMs` to finish. A step still running then
   * is left to its lease: the run resumes, with the same token, wherever the engine runs next.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const t of this.timers) clearTimeout(t);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([Promise.allSettled([...this.inFlight.values()]), grace]);
    clearTimeout(timer);
  }

  /** One scheduler pass: starts the rotations that are due and resumes runs whose next attempt has come. */
  async tick(): Promise<void> {
    const now = this.ctx.now();
    const started = await this.ctx.store.transaction(async (tx) => {
      const ids: number[] = [];
      for (const s of await tx.rotation.dueSecrets(now, 100)) {
        if (!s.rotationLambdaArn || (await tx.rotation.activeRun(s.id))) continue;
        // A scheduled rotation retries until its window closes (NextRotationDate is the window's last second).
        const deadline = s.nextRotationMs !== null && s.nextRotationMs > now ? s.nextRotationMs + 1000 : undefined;
        ids.push(await this.startRun(tx, s, s.rotationLambdaArn, randomUUID(), 'rotate', deadline));
      }
      return ids;
    });
    for (const id of started) this.kick(id);
    const due = await this.ctx.store.read((tx) => tx.rotation.dueRuns(this.ctx.now(), 100));
    for (const r of due) this.kick(r.id);
  }

  /**
   * Starts a run inside the caller's transaction: the AWSPENDING placeholder (a version without a
   * value whose id is the token; for a test run, a copy of the current value), the run and its
   * RotationStarted event. The caller kicks the run once the transaction has committed.
   */
  async startRun(
    tx: Tx, s: SecretRecord, functionArn: string, token: string, kind: 'rotate' | 'test', deadlineMs?: number,
  ): Promise<number> {
    const now = this.ctx.now();
    const existing = await tx.secrets.version(s.id, token);
    if (!existing) {
      let sealed: Buffer | null = null;
      let kmsKeyIds = [s.kmsKeyId ?? DEFAULT_KMS_KEY];
      if (kind === 'test') {
        const current = await tx.secrets.versionByStage(s.id, AWSCURRENT);
        if (current?.sealed) {
          // The copy is sealed under the secret's own key, as any new version is.
          const copy = await sealForSecret(this.ctx, tx, s, token, await openInTx(this.ctx, tx, s.arn, current));
          sealed = copy.sealed;
          kmsKeyIds = copy.kmsKeyIds;
        }
      }
      await tx.secrets.insertVersion(s.id, {
        versionId: token, createdMs: now, lastAccessedMs: null, sealed, kmsKeyIds, stages: [],
      });
    }
    const labels = labelMapOf((await tx.secrets.aggregate(s)).versions);
    labels.set(AWSPENDING, token);
    await tx.secrets.setLabels(s.id, labels);
    const id = await tx.rotation.insertRun({
      secretId: s.id, token, functionArn, kind, state: 'running', step: kind === 'test' ? 'testSecret' : 'createSecret',
      attempt: 0, nextAttemptMs: now, deadlineMs: deadlineMs ?? now + this.o.runWindowMs, leaseOwner: null, leaseUntilMs: null,
      leaseEpoch: 0, startedMs: now, finishedMs: null, lastError: null,
    });
    await this.event(tx, kind === 'test' ? 'TestRotationStarted' : 'RotationStarted', s.arn, { runId: id, token });
    return id;
  }

  /**
   * Runs a run's due steps soon, unless it is already running in this process. At most
   * maxConcurrentRuns execute at once (each may start a function process); the others queue.
   */
  kick(runId: number, waited = false): void {
    if (this.stopped || this.inFlight.has(runId)) return;
    if (this.inFlight.size >= this.o.maxConcurrentRuns) {
      this.queued.set(runId, (this.queued.get(runId) ?? false) || waited);
      return;
    }
    const p = this.execute(runId, waited)
      .catch((e) => this.o.logger?.error({ runId, err: (e as Error).name, msg: (e as Error).message }, 'rotation run failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(runId);
        const next = this.queued.entries().next();
        if (!next.done) {
          this.queued.delete(next.value[0]);
          this.kick(next.value[0], next.value[1]);
        }
      });
    this.inFlight.set(runId, p);
  }

  private later(runId: number, delayMs: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.kick(runId, true);
    }, Math.max(0, delayMs));
    t.unref();
    this.timers.add(t);
  }

  /** Runs the run's steps while they succeed. `waited`: the backoff delay has passed on a timer. */
  private async execute(runId: number, waited = false): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const now = this.ctx.now();
      const claimed = await this.ctx.store.transaction(async (tx) => {
        const run = await tx.rotation.run(runId);
        if (!run || run.state !== 'running') return undefined;
        // The retry timer already waited the backoff; the clock (which tests may hold still) is not asked again.
        if (!waited && (run.nextAttemptMs ?? 0) > now) return { run, wait: (run.nextAttemptMs ?? 0) - now };
        waited = false;
        if (!(await tx.rotation.claim(runId, this.owner, now, now + this.o.leaseMs))) return undefined;
        const secret = await tx.secrets.byId(run.secretId);
        const fn = await resolveFunction(this.sources, tx, run.functionArn).catch((e: Error) => e);
        return { run: (await tx.rotation.run(runId))!, secret, fn };
      });
      if (!claimed) return;
      if ('wait' in claimed) return this.later(runId, claimed.wait ?? 0);
      const { run, secret, fn } = claimed;
      if (!secret) return this.fail(run, 'the secret no longer exists');
      if (fn instanceof Error) return this.fail(run, fn.message);
      const step = run.step as RotationEvent['Step'];
      const event: RotationEvent = { Step: step, SecretId: secret.arn, ClientRequestToken: run.token, RotationToken: run.token };
      const t0 = Date.now();
      const startedMs = this.ctx.now();
      // The heartbeat extends the lease at the same epoch: only a takeover by another worker moves it.
      const heartbeat = setInterval(() => {
        void this.ctx.store
          .transaction((tx) => tx.rotation.renew(runId, this.owner, run.leaseEpoch, this.ctx.now() + this.o.leaseMs))
          .catch(() => undefined);
      }, Math.max(250, this.o.leaseMs / 3));
      heartbeat.unref();
      const outcome = await fn.invoke(event).finally(() => clearInterval(heartbeat));
      const durationMs = Date.now() - t0;
      const error = outcome.ok ? null : await this.redacted(run, outcome.error);
      const next = await this.ctx.store.transaction(async (tx) => {
        const cur = await tx.rotation.run(runId);
        // Fencing: if another worker took the run over meanwhile, its result wins; ours is dropped.
        if (!cur || cur.state !== 'running' || cur.leaseEpoch !== run.leaseEpoch || cur.leaseOwner !== this.owner) return 'stop';
        await tx.rotation.addStep({
          runId, step, attempt: cur.attempt + 1, startedMs, durationMs, outcome: outcome.ok ? 'succeeded' : 'failed', error,
        });
        if (!outcome.ok && outcome.restart && run.kind === 'rotate' && step !== 'createSecret' && step !== 'finishSecret') {
          // The next attempt starts over from createSecret, which generates a fresh pending value.
          await this.freshPending(tx, cur);
          return this.retryOrFail(tx, { ...cur, step: 'createSecret' }, error ?? 'failed');
        }
        if (!outcome.ok) return this.retryOrFail(tx, cur, error ?? 'failed');
        if (run.kind === 'test') return this.finishTest(tx, cur, true, null);
        const index = STEPS.indexOf(step);
        if (index < STEPS.length - 1) {
          await tx.rotation.updateRun(runId, { step: STEPS[index + 1], attempt: 0, nextAttemptMs: this.ctx.now(), lastError: null });
          return 'continue';
        }
        return this.finish(tx, cur);
      });
      if (next === 'stop') return;
      if (typeof next === 'number') return this.later(runId, next);
    }
  }

  /** Failure of a step: retry after a backoff with jitter while attempts and the window allow, else fail. */
  private async retryOrFail(tx: Tx, run: RotationRun, error: string): Promise<'stop' | number> {
    const attempt = run.attempt + 1;
    const now = this.ctx.now();
    const delay = Math.min(600_000, this.o.retryBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() * 0.5);
    if (attempt >= this.o.maxAttempts || (run.deadlineMs !== null && now + delay > run.deadlineMs)) {
      await this.failIn(tx, run, `${run.step} failed after ${attempt} attempt(s): ${error}`);
      return 'stop';
    }
    await tx.rotation.updateRun(run.id, {
      step: run.step, attempt, nextAttemptMs: now + delay, lastError: error, leaseOwner: null, leaseUntilMs: null,
    });
    return delay;
  }

  /** After finishSecret: AWSCURRENT must be on the token; then AWSPENDING goes and the dates move. */
  private async finish(tx: Tx, run: RotationRun): Promise<'stop'> {
    const s = await tx.secrets.byId(run.secretId);
    if (!s) return this.failIn(tx, run, 'the secret no longer exists').then(() => 'stop' as const);
    const labels = labelMapOf((await tx.secrets.aggregate(s)).versions);
    if (labels.get(AWSCURRENT) !== run.token) {
      await this.failIn(tx, run, `finishSecret returned, but AWSCURRENT is not on version ${run.token}`);
      return 'stop';
    }
    if (labels.get(AWSPENDING) === run.token) {
      labels.delete(AWSPENDING);
      await tx.secrets.setLabels(s.id, labels);
    }
    const now = this.ctx.now();
    await tx.secrets.updateSecret(s.id, {
      lastRotatedMs: now, lastChangedMs: now, ...this.schedule(s, now),
    });
    await tx.rotation.updateRun(run.id, { state: 'succeeded', finishedMs: now, nextAttemptMs: null, leaseOwner: null, leaseUntilMs: null });
    await this.event(tx, 'RotationSucceeded', s.arn, { runId: run.id, token: run.token });
    return 'stop';
  }

  private async finishTest(tx: Tx, run: RotationRun, ok: boolean, error: string | null): Promise<'stop'> {
    const s = await tx.secrets.byId(run.secretId);
    const now = this.ctx.now();
    if (s) {
      const labels = labelMapOf((await tx.secrets.aggregate(s)).versions);
      if (labels.get(AWSPENDING) === run.token) labels.delete(AWSPENDING);
      await tx.secrets.setLabels(s.id, labels);
      if (![...labels.values()].includes(run.token)) await tx.secrets.deleteVersion(s.id, run.token);
    }
    await tx.rotation.updateRun(run.id, {
      state: ok ? 'succeeded' : 'failed', finishedMs: now, nextAttemptMs: null, lastError: error, leaseOwner: null, leaseUntilMs: null,
    });
    await this.event(tx, ok ? 'TestRotationSucceeded' : 'TestRotationFailed', s?.arn ?? null, { runId: run.id, error });
    return 'stop';
  }

  private async fail(run: RotationRun, reason: string): Promise<void> {
    await this.ctx.store.transaction((tx) => this.failIn(tx, run, reason));
  }

  /** Marks a run failed and tidies AWSPENDING; AWSCURRENT is never touched. */
  private async failIn(tx: Tx, run: RotationRun, reason: string): Promise<void> {
    if (run.kind === 'test') {
      await this.finishTest(tx, run, false, reason);
      return;
    }
    const s = await tx.secrets.byId(run.secretId);
    if (s) {
      await this.dropPending(tx, s, run.token);
      // The scheduler tries again in the next window, not at every tick; NextRotationDate stays
      // where it was (in the past), as AWS shows an overdue rotation.
      if (s.rotationEnabled) await tx.secrets.updateSecret(s.id, { rotationDueMs: this.schedule(s, this.ctx.now()).rotationDueMs });
    }
    await tx.rotation.updateRun(run.id, {
      state: 'failed', finishedMs: this.ctx.now(), nextAttemptMs: null, lastError: reason, leaseOwner: null, leaseUntilMs: null,
    });
    await this.event(tx, 'RotationFailed', s?.arn ?? null, { runId: run.id, token: run.token, error: reason });
  }

  /** Empties the run's pending version (it becomes a placeholder again, still AWSPENDING, same token). */
  private async freshPending(tx: Tx, run: RotationRun): Promise<void> {
    const s = await tx.secrets.byId(run.secretId);
    const v = s ? await tx.secrets.version(s.id, run.token) : undefined;
    if (!s || !v || v.sealed === null) return;
    const labels = labelMapOf((await tx.secrets.aggregate(s)).versions);
    if (labels.get(AWSPENDING) !== run.token) return;
    await tx.secrets.deleteVersion(s.id, run.token);
    await tx.secrets.insertVersion(s.id, { ...v, sealed: null, stages: [] });
    await tx.secrets.setLabels(s.id, labels);
  }

  /** Removes AWSPENDING from the run's version, and the version itself if it never got a value. */
  async dropPending(tx: Tx, s: SecretRecord, token: string): Promise<void> {
    const agg = await tx.secrets.aggregate(s);
    const labels = labelMapOf(agg.versions);
    if (labels.get(AWSPENDING) === token) {
      labels.delete(AWSPENDING);
      await tx.secrets.setLabels(s.id, labels);
    }
    const v = await tx.secrets.version(s.id, token);
    if (v && v.sealed === null && ![...labels.values()].includes(token)) await tx.secrets.deleteVersion(s.id, token);
  }

  /** Abandons the secret's run in progress (a manual change or a cancel). */
  async abandon(tx: Tx, s: SecretRecord, why: string): Promise<RotationRun | undefined> {
    const run = await tx.rotation.activeRun(s.id);
    if (!run) return undefined;
    await this.dropPending(tx, s, run.token);
    await tx.rotation.updateRun(run.id, {
      state: 'abandoned', finishedMs: this.ctx.now(), nextAttemptMs: null, lastError: why, leaseOwner: null, leaseUntilMs: null,
    });
    await this.event(tx, 'RotationAbandoned', s.arn, { runId: run.id, token: run.token, reason: why });
    return run;
  }

  /**
   * The schedule fields after a rotation (or a manual change) at `fromMs`: NextRotationDate as AWS
   * shows it, and when the scheduler starts the next rotation. Nulls without a schedule.
   */
  schedule(s: SecretRecord, fromMs: number): { nextRotationMs: number | null; rotationDueMs: number | null } {
    if (!s.rotationRules) return { nextRotationMs: null, rotationDueMs: null };
    const sched = parseRotationRules(JSON.parse(s.rotationRules) as RotationRules);
    return { nextRotationMs: nextRotationDate(sched, fromMs), rotationDueMs: nextRotationWindow(sched, fromMs).startMs };
  }

  private async redacted(run: RotationRun, error: string): Promise<string> {
    return this.ctx.store.read(async (tx) => {
      const s = await tx.secrets.byId(run.secretId);
      const values: string[] = [];
      if (s) {
        for (const label of [AWSCURRENT, AWSPENDING, AWSPREVIOUS]) {
          const v = await tx.secrets.versionByStage(s.id, label);
          if (v?.sealed) {
            // A value that cannot be opened (its key disabled) cannot be in the error text either.
            const value = await openInTx(this.ctx, tx, s.arn, v).catch(() => undefined);
            if (value) values.push(value.kind === 'string' ? value.text : value.bytes.toString('base64'));
          }
        }
      }
      return redact(error, values);
    });
  }

  /** Appends an event to the event log and its record to the audit trail, in the run's transaction. */
  private async event(tx: Tx, type: string, secretArn: string | null, detail: Record<string, unknown>): Promise<void> {
    const now = this.ctx.now();
    await tx.events.append({ timeMs: now, type, secretArn, detail: JSON.stringify(detail) });
    await appendAudit(tx, [{
      time: new Date(now).toISOString(), kind: 'rotation', principal: 'secretsmanager.amazonaws.com', action: `rotation:${type}`,
      ...(secretArn ? { resource: secretArn } : {}),
      outcome: /Failed|Abandoned/.test(type) ? 'error' : 'success',
      detail,
    }], now);
  }
}
