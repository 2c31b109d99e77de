import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { MIGRATIONS } from './schema.js';
import { Mutex } from '../mutex.js';
import { filterSql } from './filters.js';
import { sqliteEventsRepo, sqliteFunctionsRepo, sqliteRotationRepo } from './rotation-repos.js';
import { sqliteAuditRepo, sqliteIdentityRepo } from './identity-repos.js';
import { sqliteKeysRepo } from './keys-repo.js';
import type {
  ListPage, ListQuery, MetaRepo, NewSecret, SecretAggregate, SecretRecord,
  SecretsRepo, Store, Tag, Tx, VersionRecord,
} from '../types.js';

type Row = Record<string, any>;

const SECRET_COLUMNS: Record<keyof NewSecret, string> = {
  arn: 'arn', name: 'name', description: 'description', kmsKeyId: 'kms_key_id', createdMs: 'created_ms',
  lastChangedMs: 'last_changed_ms', lastAccessedMs: 'last_accessed_ms', deletedMs: 'deleted_ms',
  deletionMs: 'deletion_ms', rotationEnabled: 'rotation_enabled', rotationLambdaArn: 'rotation_lambda_arn',
  rotationRules: 'rotation_rules', lastRotatedMs: 'last_rotated_ms', nextRotationMs: 'next_rotation_ms',
  rotationDueMs: 'rotation_due_ms',
  owningService: 'owning_service', primaryRegion: 'primary_region', resourcePolicy: 'resource_policy', tagged: 'tagged',
};

const SORT_COLUMNS = {
  'created-date': 'created_ms',
  'last-changed-date': 'last_changed_ms',
  'last-accessed-date': 'coalesce(last_accessed_ms, 0)',
  name: 'name',
} as const;

function toSecret(r: Row): SecretRecord {
  return {
    id: r.id, arn: r.arn, name: r.name, description: r.description, kmsKeyId: r.kms_key_id,
    createdMs: r.created_ms, lastChangedMs: r.last_changed_ms, lastAccessedMs: r.last_accessed_ms,
    deletedMs: r.deleted_ms, deletionMs: r.deletion_ms,
    rotationEnabled: r.rotation_enabled === null ? null : r.rotation_enabled === 1,
    rotationLambdaArn: r.rotation_lambda_arn, rotationRules: r.rotation_rules, lastRotatedMs: r.last_rotated_ms,
    nextRotationMs: r.next_rotation_ms, rotationDueMs: r.rotation_due_ms, owningService: r.owning_service, primaryRegion: r.primary_region,
    resourcePolicy: r.resource_policy, tagged: r.tagged === 1,
  };
}

function toDb(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/** SQLite storage (better-sqlite3, WAL): the embedded default backend. */
export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  /**
   * The data generation (meta `data_generation`, moved by triggers on the tables read caches hold,
   * whoever writes). Known here after this process's own commits, and read again when SQLite's
   * data_version says another connection committed.
   */
  private dataGeneration = 0;
  private seenDataVersion = Number.NaN;
  private readonly db: Db;
  private readonly mutex = new Mutex();
  private readonly tx: Tx;
  private readonly stmts = new Map<string, Statement>();

  constructor(file: string) {
    // Create the file owner-only; SQLite gives its WAL and SHM files the same mode.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.function('ls_prefix', { deterministic: true }, (s: unknown, p: unknown) =>
      typeof s === 'string' && typeof p === 'string' && s.startsWith(p) ? 1 : 0,
    );
    this.db.function('ls_iprefix', { deterministic: true }, (s: unknown, p: unknown) =>
      typeof s === 'string' && typeof p === 'string' && s.toLowerCase().startsWith(p.toLowerCase()) ? 1 : 0,
    );
    this.db.function('ls_words', { deterministic: true }, (s: unknown, w: unknown) =>
      typeof s === 'string' && typeof w === 'string' && wordMatch(s, w) ? 1 : 0,
    );
    this.migrate();
    const st = (sql: string) => this.st(sql);
    this.tx = {
      secrets: this.secretsRepo(), identity: sqliteIdentityRepo(st), meta: this.metaRepo(), audit: sqliteAuditRepo(st),
      functions: sqliteFunctionsRepo(st), rotation: sqliteRotationRepo(st, toSecret), events: sqliteEventsRepo(st),
      keys: sqliteKeysRepo(st),
    };
  }

  private migrate(): void {
    const hasMeta = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").get();
    let version = 0;
    if (hasMeta) {
      const row = this.db.prepare("SELECT value FROM meta WHERE key='schema_version'").get() as Row | undefined;
      version = row ? Number(row.value) : 0;
    }
    if (version > MIGRATIONS.length) {
      throw new Error(`the data directory was written by a newer Lockstep (schema ${version})`);
    }
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[i]);
        this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(i + 1));
      })();
    }
  }

  private st(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      if (this.stmts.size >= 500) this.stmts.clear(); // listing SQL varies with the filters given
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.tx);
        // What this commit makes the generation (the triggers moved it if it changed cached data).
        const next = this.readDataGeneration();
        this.db.exec('COMMIT');
        this.dataGeneration = next;
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  private readDataGeneration(): number {
    const v = this.st("SELECT value FROM meta WHERE key = 'data_generation'").pluck().get() as string | undefined;
    return v === undefined ? 0 : Number(v);
  }

  /**
   * The data generation: it moves when a commit of this process or of another connection (another
   * worker, the CLI, any SQLite client) changed secrets, versions, labels, tags, encryption keys or
   * settings; the audit trail, the rotation journal, identities and functions leave it, so caches
   * survive their constant writes. SQLite's data_version tells when another connection committed
   * at all; only then is the counter read again.
   */
  get generation(): number {
    const dv = this.st('PRAGMA data_version').pluck().get() as number;
    if (dv !== this.seenDataVersion) {
      this.dataGeneration = this.readDataGeneration();
      this.seenDataVersion = dv;
    }
    return this.dataGeneration;
  }

  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    // One read transaction: every statement of fn sees the same snapshot, even while another
    // process writes.
    return this.mutex.run(async () => {
      this.db.exec('BEGIN');
      try {
        return await fn(this.tx);
      } finally {
        if (this.db.inTransaction) this.db.exec('COMMIT');
      }
    });
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      if (this.db.open) {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
        this.db.close();
      }
    });
  }

  private versionsOf(secretIds: number[]): Map<number, VersionRecord[]> {
    const out = new Map<number, VersionRecord[]>();
    if (secretIds.length === 0) return out;
    const marks = secretIds.map(() => '?').join(',');
    const vrows = this
      .st(
        `SELECT secret_id, version_id, created_ms, last_accessed_ms, kms_key_ids FROM versions
         WHERE secret_id IN (${marks}) ORDER BY secret_id, seq`,
      )
      .all(...secretIds) as Row[];
    const lrows = this
      .st(`SELECT secret_id, label, version_id FROM labels WHERE secret_id IN (${marks}) ORDER BY label`)
      .all(...secretIds) as Row[];
    const stages = new Map<string, string[]>();
    for (const l of lrows) {
      const k = l.secret_id + '\0' + l.version_id;
      const list = stages.get(k);
      if (list) list.push(l.label);
      else stages.set(k, [l.label]);
    }
    for (const v of vrows) {
      let list = out.get(v.secret_id);
      if (!list) out.set(v.secret_id, (list = []));
      list.push({
        versionId: v.version_id, createdMs: v.created_ms, lastAccessedMs: v.last_accessed_ms, sealed: null,
        kmsKeyIds: JSON.parse(v.kms_key_ids), stages: stages.get(v.secret_id + '\0' + v.version_id) ?? [],
      });
    }
    return out;
  }

  private tagsOf(secretIds: number[]): Map<number, Tag[]> {
    const out = new Map<number, Tag[]>();
    if (secretIds.length === 0) return out;
    const marks = secretIds.map(() => '?').join(',');
    const rows = this
      .st(`SELECT secret_id, key, value FROM tags WHERE secret_id IN (${marks}) ORDER BY secret_id, ord`)
      .all(...secretIds) as Row[];
    for (const r of rows) {
      let list = out.get(r.secret_id);
      if (!list) out.set(r.secret_id, (list = []));
      list.push({ Key: r.key, Value: r.value });
    }
    return out;
  }

  private fullVersion(secretId: number, r: Row | undefined): VersionRecord | undefined {
    if (!r) return undefined;
    const labels = this.st('SELECT label FROM labels WHERE secret_id = ? AND version_id = ? ORDER BY label')
      .pluck()
      .all(secretId, r.version_id) as string[];
    return {
      versionId: r.version_id, createdMs: r.created_ms, lastAccessedMs: r.last_accessed_ms, sealed: r.sealed,
      kmsKeyIds: JSON.parse(r.kms_key_ids), stages: labels,
    };
  }

  private secretsRepo(): SecretsRepo {
    const self = this;
    return {
      async insertSecret(s) {
        const cols = Object.keys(SECRET_COLUMNS) as (keyof NewSecret)[];
        const sql = `INSERT INTO secrets (${cols.map((c) => SECRET_COLUMNS[c]).join(',')}) VALUES (${cols.map(() => '?').join(',')})`;
        return Number(self.st(sql).run(...cols.map((c) => toDb(s[c]))).lastInsertRowid);
      },
      async updateSecret(id, patch) {
        const cols = (Object.keys(patch) as (keyof NewSecret)[]).filter((c) => c in SECRET_COLUMNS);
        if (cols.length === 0) return;
        const sql = `UPDATE secrets SET ${cols.map((c) => SECRET_COLUMNS[c] + ' = ?').join(', ')} WHERE id = ?`;
        self.st(sql).run(...cols.map((c) => toDb(patch[c])), id);
      },
      async deleteSecret(id) {
        self.st('DELETE FROM secrets WHERE id = ?').run(id);
      },
      async byName(name) {
        const r = self.st('SELECT * FROM secrets WHERE name = ?').get(name) as Row | undefined;
        return r && toSecret(r);
      },
      async byId(id) {
        const r = self.st('SELECT * FROM secrets WHERE id = ?').get(id) as Row | undefined;
        return r && toSecret(r);
      },
      async byArn(arn) {
        const r = self.st('SELECT * FROM secrets WHERE arn = ?').get(arn) as Row | undefined;
        return r && toSecret(r);
      },
      async aggregate(s) {
        return { secret: s, versions: self.versionsOf([s.id]).get(s.id) ?? [], tags: self.tagsOf([s.id]).get(s.id) ?? [] };
      },
      async version(secretId, versionId) {
        return self.fullVersion(
          secretId,
          self.st('SELECT * FROM versions WHERE secret_id = ? AND version_id = ?').get(secretId, versionId) as Row,
        );
      },
      async versionByStage(secretId, stage) {
        const r = self
          .st(
            `SELECT v.* FROM labels l JOIN versions v ON v.secret_id = l.secret_id AND v.version_id = l.version_id
             WHERE l.secret_id = ? AND l.label = ?`,
          )
          .get(secretId, stage) as Row | undefined;
        return self.fullVersion(secretId, r);
      },
      async insertVersion(secretId, v) {
        const seq = (self.st('SELECT coalesce(max(seq), 0) + 1 FROM versions WHERE secret_id = ?').pluck().get(secretId)) as number;
        self
          .st(
            `INSERT INTO versions (secret_id, version_id, seq, created_ms, last_accessed_ms, sealed, kms_key_ids)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(secretId, v.versionId, seq, v.createdMs, v.lastAccessedMs, v.sealed, JSON.stringify(v.kmsKeyIds));
      },
      async fillVersion(secretId, versionId, sealed, kmsKeyIds) {
        if (kmsKeyIds === undefined) {
          self.st('UPDATE versions SET sealed = ? WHERE secret_id = ? AND version_id = ? AND sealed IS NULL').run(sealed, secretId, versionId);
        } else {
          self
            .st('UPDATE versions SET sealed = ?, kms_key_ids = ? WHERE secret_id = ? AND version_id = ? AND sealed IS NULL')
            .run(sealed, JSON.stringify(kmsKeyIds), secretId, versionId);
        }
      },
      async resealVersion(secretId, versionId, sealed, kmsKeyIds) {
        self
          .st('UPDATE versions SET sealed = ?, kms_key_ids = ? WHERE secret_id = ? AND version_id = ?')
          .run(sealed, JSON.stringify(kmsKeyIds), secretId, versionId);
      },
      async deleteVersion(secretId, versionId) {
        self.st('DELETE FROM labels WHERE secret_id = ? AND version_id = ?').run(secretId, versionId);
        self.st('DELETE FROM versions WHERE secret_id = ? AND version_id = ?').run(secretId, versionId);
      },
      async setLabels(secretId, labels) {
        self.st('DELETE FROM labels WHERE secret_id = ?').run(secretId);
        const ins = self.st('INSERT INTO labels (secret_id, label, version_id) VALUES (?, ?, ?)');
        for (const [label, versionId] of labels) ins.run(secretId, label, versionId);
      },
      async touchVersion(secretId, versionId, dayMs) {
        self.st('UPDATE versions SET last_accessed_ms = ? WHERE secret_id = ? AND version_id = ?').run(dayMs, secretId, versionId);
        self.st('UPDATE secrets SET last_accessed_ms = ? WHERE id = ?').run(dayMs, secretId);
      },
      async setTags(secretId, tags) {
        self.st('DELETE FROM tags WHERE secret_id = ?').run(secretId);
        const ins = self.st('INSERT INTO tags (secret_id, key, value, ord) VALUES (?, ?, ?, ?)');
        tags.forEach((t, i) => ins.run(secretId, t.Key, t.Value, i));
      },
      async list(q) {
        return self.list(q);
      },
      async dueForPurge(nowMs, limit) {
        const rows = self
          .st('SELECT * FROM secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= ? ORDER BY deletion_ms LIMIT ?')
          .all(nowMs, limit) as Row[];
        return rows.map(toSecret);
      },
    };
  }

  private list(q: ListQuery): ListPage {
    const col = SORT_COLUMNS[q.sortBy];
    const where: string[] = [];
    const params: unknown[] = [];
    if (!q.includePlannedDeletion) where.push('deleted_ms IS NULL');
    for (const f of q.filters) {
      const part = filterSql(f);
      where.push(part.sql);
      params.push(...part.params);
    }
    const cmp = q.sortOrder === 'asc' ? '>' : '<';
    if (q.after) {
      // A row-value comparison lets SQLite seek the (sort, id) index instead of scanning from the start.
      where.push(`(${col}, id) ${cmp} (?, ?)`);
      params.push(q.after.sort, q.after.id);
    }
    const dir = q.sortOrder === 'asc' ? 'ASC' : 'DESC';
    const sql = `SELECT *, ${col} AS sort_key FROM secrets ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                 ORDER BY ${col} ${dir}, id ${dir} LIMIT ?`;
    const rows = this.st(sql).all(...params, q.limit + 1) as Row[];
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const ids = page.map((r) => r.id as number);
    const versions = this.versionsOf(ids);
    const tags = this.tagsOf(ids);
    const items: SecretAggregate[] = page.map((r) => ({
      secret: toSecret(r), versions: versions.get(r.id) ?? [], tags: tags.get(r.id) ?? [],
    }));
    const last = page[page.length - 1];
    return { items, next: more && last ? { sort: last.sort_key, id: last.id } : null };
  }

  private metaRepo(): MetaRepo {
    const self = this;
    return {
      async get(key) {
        return self.st('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
      },
      async set(key, value) {
        self.st('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
      },
    };
  }
}

/** True when some word of the text starts with the given word (case-insensitive). */
export function wordMatch(text: string, word: string): boolean {
  const t = text.toLowerCase();
  const w = word.toLowerCase();
  let at = t.indexOf(w);
  while (at !== -1) {
    if (at === 0 || !/[\p{L}\p{N}]/u.test(t[at - 1])) return true;
    at = t.indexOf(w, at + 1);
  }
  return false;
}
