import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageConformance } from '../conformance/suite.js';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite-store.js';

storageConformance('sqlite', () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'lockstep-store-')), 'db.sqlite')));

test('sqlite: the generation follows data commits of other connections (another worker, any SQLite client), not audit appends or the event log', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'lockstep-store-')), 'db.sqlite');
  const a = new SqliteStore(file);
  const b = new SqliteStore(file);
  try {
    const g0 = a.generation;
    await b.transaction(async (tx) => {
      await tx.audit.append({ timeMs: 1, record: '{}', prevHash: '0'.repeat(64), hash: '1'.repeat(64) });
    });
    assert.equal(a.generation, g0, "another connection's audit append leaves it");
    await b.transaction((tx) => tx.meta.set('x', 'y'));
    const g1 = a.generation;
    assert.notEqual(g1, g0, "another connection's data commit moves it");
    await a.transaction((tx) => tx.meta.set('x', 'z'));
    assert.notEqual(a.generation, g1, 'its own data commit moves it');
    assert.equal(b.generation, a.generation, 'both connections agree');
    // Any SQLite client's write of cached data moves it too (triggers keep the count).
    const raw = new Database(file);
    raw.prepare("INSERT INTO meta (key, value) VALUES ('raw', '1')").run();
    const g2 = a.generation;
    raw.prepare('INSERT INTO events (time_ms, type, secret_arn, detail) VALUES (1, ?, ?, ?)').run('x', 'arn', '{}');
    assert.equal(a.generation, g2, 'the event log is not cached data');
    raw.prepare("UPDATE meta SET value = '2' WHERE key = 'raw'").run();
    assert.notEqual(a.generation, g2, "a raw client's update moves it");
    raw.close();
  } finally {
    await a.close();
    await b.close();
  }
});
