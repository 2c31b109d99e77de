import type { Statement } from 'better-sqlite3';
import type { KeysRepo, KmsAliasRecord, KmsKeyRecord, SealedCursor, SealedKind, SealedRow } from '../types.js';

type St = (sql: string) => Statement;
type Row = Record<string, any>;

function toKey(r: Row): KmsKeyRecord {
  return { keyId: r.key_id, description: r.description, enabled: r.enabled === 1, sealedMaterial: r.sealed_material, createdMs: r.created_ms };
}

function toAlias(r: Row): KmsAliasRecord {
  return { name: r.name, keyId: r.key_id, createdMs: r.created_ms };
}

/**
 * Per kind of sealed value: the page query (keyset order, first cursor), how a row becomes a
 * SealedRow, and the compare-and-swap update that replaces its bytes.
 */
const SEALED: Record<SealedKind, { start: SealedCursor; page: string; row(r: Row): SealedRow; swap: string; key(row: SealedRow): unknown[] }> = {
  'kms-key': {
    start: [''],
    page: 'SELECT key_id, sealed_material FROM kms_keys WHERE key_id > ? ORDER BY key_id LIMIT ?',
    row: (r) => ({ kind: 'kms-key', cursor: [r.key_id], owner: r.key_id, part: '', sealed: r.sealed_material }),
    swap: 'UPDATE kms_keys SET sealed_material = ? WHERE key_id = ? AND sealed_material = ?',
    key: (row) => [row.cursor[0]],
  },
  version: {
    start: [0, ''],
    page: `SELECT v.secret_id, v.version_id, s.arn, v.sealed FROM versions v JOIN secrets s ON s.id = v.secret_id
           WHERE v.sealed IS NOT NULL AND (v.secret_id, v.version_id) > (?, ?) ORDER BY v.secret_id, v.version_id LIMIT ?`,
    row: (r) => ({ kind: 'version', cursor: [r.secret_id, r.version_id], owner: r.arn, part: r.version_id, sealed: r.sealed }),
    swap: 'UPDATE versions SET sealed = ? WHERE secret_id = ? AND version_id = ? AND sealed = ?',
    key: (row) => [row.cursor[0], row.cursor[1]],
  },
  'access-key': {
    start: [''],
    page: 'SELECT access_key_id, sealed_secret FROM access_keys WHERE access_key_id > ? ORDER BY access_key_id LIMIT ?',
    row: (r) => ({ kind: 'access-key', cursor: [r.access_key_id], owner: r.access_key_id, part: '', sealed: r.sealed_secret }),
    swap: 'UPDATE access_keys SET sealed_secret = ? WHERE access_key_id = ? AND sealed_secret = ?',
    key: (row) => [row.cursor[0]],
  },
  function: {
    start: [''],
    page: 'SELECT name, arn, sealed_environment FROM functions WHERE sealed_environment IS NOT NULL AND name > ? ORDER BY name LIMIT ?',
    row: (r) => ({ kind: 'function', cursor: [r.name], owner: r.arn, part: '', sealed: r.sealed_environment }),
    swap: 'UPDATE functions SET sealed_environment = ? WHERE name = ? AND sealed_environment = ?',
    key: (row) => [row.cursor[0]],
  },
};

/** Named keys, aliases and sealed values over SQLite. */
export function sqliteKeysRepo(st: St): KeysRepo {
  return {
    async insertKey(k) {
      st('INSERT INTO kms_keys (key_id, description, enabled, sealed_material, created_ms) VALUES (?, ?, ?, ?, ?)').run(
        k.keyId, k.description, k.enabled ? 1 : 0, k.sealedMaterial, k.createdMs,
      );
    },
    async key(keyId) {
      const r = st('SELECT * FROM kms_keys WHERE key_id = ?').get(keyId) as Row | undefined;
      return r ? toKey(r) : undefined;
    },
    async keys() {
      return (st('SELECT * FROM kms_keys ORDER BY created_ms, key_id').all() as Row[]).map(toKey);
    },
    async setEnabled(keyId, enabled) {
      return st('UPDATE kms_keys SET enabled = ? WHERE key_id = ?').run(enabled ? 1 : 0, keyId).changes === 1;
    },
    async alias(name) {
      const r = st('SELECT * FROM kms_aliases WHERE name = ?').get(name) as Row | undefined;
      return r ? toAlias(r) : undefined;
    },
    async aliases() {
      return (st('SELECT * FROM kms_aliases ORDER BY name').all() as Row[]).map(toAlias);
    },
    async insertAlias(a) {
      st('INSERT INTO kms_aliases (name, key_id, created_ms) VALUES (?, ?, ?)').run(a.name, a.keyId, a.createdMs);
    },
    async deleteAlias(name) {
      return st('DELETE FROM kms_aliases WHERE name = ?').run(name).changes === 1;
    },
    async sealedRows(kind, after, limit) {
      const k = SEALED[kind];
      return (st(k.page).all(...(after ?? k.start), limit) as Row[]).map(k.row);
    },
    async replaceSealed(row, sealed) {
      const k = SEALED[row.kind];
      return st(k.swap).run(sealed, ...k.key(row), row.sealed).changes === 1;
    },
  };
}
