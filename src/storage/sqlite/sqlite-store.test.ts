import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageConformance } from '../conformance/suite.js';
import { SqliteStore } from './sqlite-store.js';

storageConformance('sqlite', () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'lockstep-store-')), 'db.sqlite')));

test('sqlite: the generation follows data commits of another connection (another worker), not its audit appends', async () => {
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
  } finally {
    await a.close();
    await b.close();
  }
});
