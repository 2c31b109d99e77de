import type { Statement } from 'better-sqlite3';
import type {
  EventsRepo, FunctionRecord, FunctionsRepo, RotationRepo, RotationRun, SecretRecord, StepRecord,
} from '../types.js';

type Row = Record<string, any>;
type St = (sql: string) => Statement;

const RUN_COLUMNS: Record<keyof Omit<RotationRun, 'id'>, string> = {
  secretId: 'secret_id', token: 'token', functionArn: 'function_arn', kind: 'kind', state: 'state', step: 'step',
  attempt: 'attempt', nextAttemptMs: 'next_attempt_ms', deadlineMs: 'deadline_ms', leaseOwner: 'lease_owner',
  leaseUntilMs: 'lease_until_ms', leaseEpoch: 'lease_epoch', startedMs: 'started_ms', finishedMs: 'finished_ms',
  lastError: 'last_error',
};

function toRun(r: Row): RotationRun {
  const out: Record<string, unknown> = { id: r.id };
  for (const [k, col] of Object.entries(RUN_COLUMNS)) out[k] = r[col];
  return out as unknown as RotationRun;
}

function toFunction(r: Row): FunctionRecord {
  return {
    name: r.name, arn: r.arn, runtime: r.runtime, handler: r.handler, role: r.role, description: r.description,
    timeoutS: r.timeout_s, memoryMb: r.memory_mb, sealedEnvironment: r.sealed_environment, code: r.code,
    codeSha256: r.code_sha256, codeSize: r.code_size, policy: r.policy, createdMs: r.created_ms,
    lastModifiedMs: r.last_modified_ms, revisionId: r.revision_id,
  };
}

/** The functions repository over SQLite. */
export function sqliteFunctionsRepo(st: St): FunctionsRepo {
  return {
    async get(name) {
      const r = st('SELECT * FROM functions WHERE name = ?').get(name) as Row | undefined;
      return r && toFunction(r);
    },
    async list() {
      return (st('SELECT * FROM functions ORDER BY name').all() as Row[]).map(toFunction);
    },
    async put(f) {
      st(
        `INSERT OR REPLACE INTO functions (name, arn, runtime, handler, role, description, timeout_s, memory_mb,
           sealed_environment, code, code_sha256, code_size, policy, created_ms, last_modified_ms, revision_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        f.name, f.arn, f.runtime, f.handler, f.role, f.description, f.timeoutS, f.memoryMb, f.sealedEnvironment, f.code,
        f.codeSha256, f.codeSize, f.policy, f.createdMs, f.lastModifiedMs, f.revisionId,
      );
    },
    async delete(name) {
      return st('DELETE FROM functions WHERE name = ?').run(name).changes > 0;
    },
  };
}

/** The rotation journal over SQLite. */
export function sqliteRotationRepo(st: St, toSecret: (r: Row) => SecretRecord): RotationRepo {
  return {
    async insertRun(r) {
      const cols = Object.keys(RUN_COLUMNS) as (keyof typeof RUN_COLUMNS)[];
      const sql = `INSERT INTO rotation_runs (${cols.map((c) => RUN_COLUMNS[c]).join(',')}) VALUES (${cols.map(() => '?').join(',')})`;
      return Number(st(sql).run(...cols.map((c) => r[c])).lastInsertRowid);
    },
    async updateRun(id, patch) {
      const cols = (Object.keys(patch) as (keyof typeof RUN_COLUMNS)[]).filter((c) => c in RUN_COLUMNS);
      if (cols.length === 0) return;
      st(`UPDATE rotation_runs SET ${cols.map((c) => RUN_COLUMNS[c] + ' = ?').join(', ')} WHERE id = ?`).run(
        ...cols.map((c) => patch[c]), id,
      );
    },
    async run(id) {
      const r = st('SELECT * FROM rotation_runs WHERE id = ?').get(id) as Row | undefined;
      return r && toRun(r);
    },
    async activeRun(secretId) {
      const r = st("SELECT * FROM rotation_runs WHERE secret_id = ? AND state = 'running' ORDER BY id DESC LIMIT 1").get(
        secretId,
      ) as Row | undefined;
      return r && toRun(r);
    },
    async runsOf(secretId, limit) {
      return (st('SELECT * FROM rotation_runs WHERE secret_id = ? ORDER BY id DESC LIMIT ?').all(secretId, limit) as Row[]).map(toRun);
    },
    async dueRuns(nowMs, limit) {
      return (
        st(
          `SELECT * FROM rotation_runs WHERE state = 'running' AND coalesce(next_attempt_ms, 0) <= ?
             AND (lease_until_ms IS NULL OR lease_until_ms <= ?) ORDER BY next_attempt_ms LIMIT ?`,
        ).all(nowMs, nowMs, limit) as Row[]
      ).map(toRun);
    },
    async claim(id, owner, nowMs, untilMs) {
      const r = st(
        `UPDATE rotation_runs SET lease_owner = ?, lease_until_ms = ?, lease_epoch = lease_epoch + 1
         WHERE id = ? AND state = 'running' AND (lease_until_ms IS NULL OR lease_until_ms <= ? OR lease_owner = ?)`,
      ).run(owner, untilMs, id, nowMs, owner);
      return r.changes > 0;
    },
    async renew(id, owner, epoch, untilMs) {
      const r = st(
        "UPDATE rotation_runs SET lease_until_ms = ? WHERE id = ? AND state = 'running' AND lease_owner = ? AND lease_epoch = ?",
      ).run(untilMs, id, owner, epoch);
      return r.changes > 0;
    },
    async addStep(s: StepRecord) {
      st(
        `INSERT INTO rotation_steps (run_id, step, attempt, started_ms, duration_ms, outcome, error)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(s.runId, s.step, s.attempt, s.startedMs, s.durationMs, s.outcome, s.error);
    },
    async steps(runId) {
      return (st('SELECT * FROM rotation_steps WHERE run_id = ? ORDER BY rowid').all(runId) as Row[]).map((r) => ({
        runId: r.run_id, step: r.step, attempt: r.attempt, startedMs: r.started_ms, durationMs: r.duration_ms,
        outcome: r.outcome, error: r.error,
      }));
    },
    async dueSecrets(nowMs, limit) {
      return (
        st(
          `SELECT * FROM secrets WHERE rotation_enabled = 1 AND rotation_due_ms IS NOT NULL AND rotation_due_ms <= ?
             AND deleted_ms IS NULL ORDER BY rotation_due_ms LIMIT ?`,
        ).all(nowMs, limit) as Row[]
      ).map(toSecret);
    },
  };
}

/** The event log over SQLite. */
export function sqliteEventsRepo(st: St): EventsRepo {
  return {
    async append(e) {
      st('INSERT INTO events (time_ms, type, secret_arn, detail) VALUES (?, ?, ?, ?)').run(e.timeMs, e.type, e.secretArn, e.detail);
    },
    async list(q) {
      const rows = q.secretArn !== undefined
        ? st('SELECT * FROM events WHERE secret_arn = ? AND id > ? ORDER BY id LIMIT ?').all(q.secretArn, q.afterId ?? 0, q.limit)
        : st('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?').all(q.afterId ?? 0, q.limit);
      return (rows as Row[]).map((r) => ({ id: r.id, timeMs: r.time_ms, type: r.type, secretArn: r.secret_arn, detail: r.detail }));
    },
    async lastId() {
      return ((st('SELECT max(id) AS id FROM events').get() as Row | undefined)?.id as number | null) ?? 0;
    },
  };
}
