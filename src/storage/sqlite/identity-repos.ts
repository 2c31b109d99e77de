import type { Statement } from 'better-sqlite3';
import type { AccessKeyRecord, AuditRepo, AuditRow, IdentityRepo, PrincipalRecord } from '../types.js';

type St = (sql: string) => Statement;
type Row = Record<string, any>;

function toKey(r: Row): AccessKeyRecord {
  return {
    accessKeyId: r.access_key_id, sealedSecret: r.sealed_secret, principal: r.principal, createdMs: r.created_ms,
    status: r.status, expiresMs: r.expires_ms ?? null, sessionTokenHash: r.session_token_hash ?? null, session: r.session ?? null,
  };
}

function toPrincipal(r: Row): PrincipalRecord {
  return {
    arn: r.arn, kind: r.kind, name: r.name, path: r.path, uniqueId: r.unique_id, createdMs: r.created_ms,
    trustPolicy: r.trust_policy ?? null, description: r.description ?? null, maxSessionS: r.max_session_s ?? null,
  };
}

/** Principals, inline policies and access keys over SQLite. */
export function sqliteIdentityRepo(st: St): IdentityRepo {
  return {
    async accessKeys() {
      return (st('SELECT * FROM access_keys ORDER BY created_ms, access_key_id').all() as Row[]).map(toKey);
    },
    async accessKey(id) {
      const r = st('SELECT * FROM access_keys WHERE access_key_id = ?').get(id) as Row | undefined;
      return r ? toKey(r) : undefined;
    },
    async accessKeysOf(principal) {
      return (st('SELECT * FROM access_keys WHERE principal = ? ORDER BY created_ms, access_key_id').all(principal) as Row[]).map(toKey);
    },
    async putAccessKey(k) {
      st(
        `INSERT OR REPLACE INTO access_keys (access_key_id, sealed_secret, principal, created_ms, status, expires_ms, session_token_hash, session)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(k.accessKeyId, k.sealedSecret, k.principal, k.createdMs, k.status, k.expiresMs ?? null, k.sessionTokenHash ?? null, k.session ?? null);
    },
    async deleteAccessKey(id) {
      st('DELETE FROM access_keys WHERE access_key_id = ?').run(id);
    },
    async deleteExpiredKeys(nowMs) {
      return st('DELETE FROM access_keys WHERE expires_ms IS NOT NULL AND expires_ms < ?').run(nowMs).changes;
    },
    async principal(kind, name) {
      const r = st('SELECT * FROM principals WHERE kind = ? AND name = ? COLLATE NOCASE').get(kind, name) as Row | undefined;
      return r ? toPrincipal(r) : undefined;
    },
    async principalByArn(arn) {
      const r = st('SELECT * FROM principals WHERE arn = ?').get(arn) as Row | undefined;
      return r ? toPrincipal(r) : undefined;
    },
    async principals(kind) {
      return (st('SELECT * FROM principals WHERE kind = ? ORDER BY name').all(kind) as Row[]).map(toPrincipal);
    },
    async putPrincipal(p) {
      st(
        `INSERT OR REPLACE INTO principals (arn, kind, name, path, unique_id, created_ms, trust_policy, description, max_session_s)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(p.arn, p.kind, p.name, p.path, p.uniqueId, p.createdMs, p.trustPolicy ?? null, p.description ?? null, p.maxSessionS ?? null);
    },
    async deletePrincipal(arn) {
      st('DELETE FROM principal_policies WHERE principal_arn = ?').run(arn);
      st('DELETE FROM access_keys WHERE principal = ?').run(arn);
      st('DELETE FROM principals WHERE arn = ?').run(arn);
    },
    async policies(arn) {
      return (st('SELECT name, document FROM principal_policies WHERE principal_arn = ? ORDER BY name').all(arn) as Row[]).map((r) => ({
        name: r.name as string, document: r.document as string,
      }));
    },
    async putPolicy(arn, name, document) {
      st('INSERT OR REPLACE INTO principal_policies (principal_arn, name, document) VALUES (?, ?, ?)').run(arn, name, document);
    },
    async deletePolicy(arn, name) {
      return st('DELETE FROM principal_policies WHERE principal_arn = ? AND name = ?').run(arn, name).changes > 0;
    },
  };
}

function toAudit(r: Row): AuditRow {
  return { seq: r.seq, timeMs: r.time_ms, record: r.record, prevHash: r.prev_hash, hash: r.hash };
}

/** The audit trail over SQLite. */
export function sqliteAuditRepo(st: St): AuditRepo {
  return {
    async last() {
      const r = st('SELECT * FROM audit ORDER BY seq DESC LIMIT 1').get() as Row | undefined;
      return r ? toAudit(r) : undefined;
    },
    async append(a) {
      return Number(st('INSERT INTO audit (time_ms, record, prev_hash, hash) VALUES (?, ?, ?, ?)').run(a.timeMs, a.record, a.prevHash, a.hash).lastInsertRowid);
    },
    async list(afterSeq, limit) {
      return (st('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as Row[]).map(toAudit);
    },
  };
}
