import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../storage/open.js';
import { AuditWriter, GENESIS, appendAudit, matchesAudit, verifyAudit, type AuditRecord } from './audit.js';

function rec(i: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return { time: new Date(1_700_000_000_000 + i).toISOString(), kind: 'api', action: 'secretsmanager:GetSecretValue', resource: `s${i}`, outcome: 'success', ...extra };
}

async function withStore(fn: (dir: string, store: ReturnType<typeof openStore>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-audit-'));
  const store = openStore('sqlite', dir);
  try {
    await fn(dir, store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('records chain from the genesis hash; an intact trail verifies', async () => {
  await withStore(async (_dir, store) => {
    assert.deepEqual(await verifyAudit(store), { records: 0, ok: true, breaks: [] });
    await store.transaction((tx) => appendAudit(tx, [rec(1), rec(2), rec(3)], 1000));
    const rows = await store.read((tx) => tx.audit.list(0, 10));
    assert.equal(rows[0].prevHash, GENESIS);
    assert.equal(rows[1].prevHash, rows[0].hash);
    assert.equal(rows[2].prevHash, rows[1].hash);
    const v = await verifyAudit(store, 2);
    assert.equal(v.ok, true);
    assert.equal(v.records, 3);
    assert.deepEqual(v.head, { seq: 3, hash: rows[2].hash });
  });
});

test('an edited, a deleted and a re-hashed record are each detected', async () => {
  await withStore(async (dir, store) => {
    await store.transaction((tx) => appendAudit(tx, [1, 2, 3, 4, 5].map((i) => rec(i)), 1000));
    const db = new Database(join(dir, 'lockstep.sqlite'));
    try {
      const edited = JSON.stringify(rec(2, { outcome: 'denied' }));
      db.prepare('UPDATE audit SET record = ? WHERE seq = 2').run(edited);
      let v = await verifyAudit(store);
      assert.deepEqual(v.breaks, [{ seq: 2, problem: 'its content does not match its hash (edited)' }]);
      // Re-computing the edited record's hash moves the break to the next link.
      const { createHash } = await import('node:crypto');
      const prev = (db.prepare('SELECT prev_hash FROM audit WHERE seq = 2').get() as { prev_hash: string }).prev_hash;
      db.prepare('UPDATE audit SET hash = ? WHERE seq = 2').run(createHash('sha256').update(prev).update('\n').update(edited).digest('hex'));
      v = await verifyAudit(store);
      assert.deepEqual(v.breaks, [{ seq: 3, problem: 'does not link to the record before it' }]);
      db.prepare('DELETE FROM audit WHERE seq = 4').run();
      v = await verifyAudit(store);
      assert.equal(v.ok, false);
      assert.ok(v.breaks.some((b) => b.seq === 5 && /records 4\.\.4 are missing/.test(b.problem)));
    } finally {
      db.close();
    }
  });
});

test('the writer batches concurrent records into one chain, and a failure rejects the callers', async () => {
  await withStore(async (_dir, store) => {
    const w = new AuditWriter(store, () => 5);
    await Promise.all(Array.from({ length: 300 }, (_, i) => w.record(rec(i))));
    const v = await verifyAudit(store);
    assert.equal(v.records, 300);
    assert.equal(v.ok, true);
    await store.close();
    await assert.rejects(w.record(rec(999)));
  });
});

test('the writer starts a batch at once when enough records wait, and otherwise at the end of the turn', async () => {
  await withStore(async (_dir, store) => {
    let transactions = 0;
    const counted = { ...store, generation: 0, transaction: <T>(fn: Parameters<typeof store.transaction<T>>[0]) => { transactions++; return store.transaction(fn); } };
    const w = new AuditWriter(counted as typeof store, () => 5, 256, 4);
    // Three records: nothing is written before the turn ends.
    const first = [1, 2, 3].map((i) => w.record(rec(i)));
    await Promise.resolve();
    assert.equal(transactions, 0);
    await Promise.all(first);
    assert.equal(transactions, 1, 'one batch at the end of the turn');
    // Four records: the batch starts without waiting for the turn to end.
    const eager = [4, 5, 6, 7].map((i) => w.record(rec(i)));
    assert.equal(transactions, 2);
    await Promise.all(eager);
    assert.equal((await verifyAudit(store)).records, 7);
    // drain() writes what is still waiting for the end of the turn.
    void w.record(rec(8));
    await w.drain();
    assert.equal((await verifyAudit(store)).records, 8);
  });
});

test('filters', () => {
  const row = { seq: 1, timeMs: 2000, record: '', prevHash: '', hash: '' };
  const r = rec(1, { principal: 'arn:aws:iam::123456789012:user/alice', outcome: 'denied' });
  assert.equal(matchesAudit(row, r, { action: 'secretsmanager:*' }), true);
  assert.equal(matchesAudit(row, r, { action: 'secretsmanager:getsecretvalue' }), true);
  assert.equal(matchesAudit(row, r, { action: 'iam:*' }), false);
  assert.equal(matchesAudit(row, r, { principal: 'arn:aws:iam::123456789012:user/alice', outcome: 'denied' }), true);
  assert.equal(matchesAudit(row, r, { sinceMs: 2001 }), false);
  assert.equal(matchesAudit(row, r, { untilMs: 1999 }), false);
  assert.equal(matchesAudit(row, r, { resource: 's1' }), true);
});
