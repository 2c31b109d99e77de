import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TtlCache } from './key-cache.js';

/** A source whose reads are counted and can be held back. */
function source(initial: Record<string, string>) {
  const data = new Map(Object.entries(initial));
  let reads = 0;
  let gate: Promise<void> | undefined;
  return {
    data,
    reads: () => reads,
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
    async load(key: string): Promise<string | undefined> {
      reads++;
      const value = data.get(key); // read before waiting: what a transaction's snapshot saw
      if (gate) await gate;
      return value;
    },
  };
}

test('an entry is trusted for its lifetime without reads, then read again', async () => {
  let t = 0;
  const src = source({ a: '1' });
  const cache = new TtlCache<string, string>((k) => src.load(k), { ttlMs: 1000, clock: () => t });
  assert.equal(await cache.get('a'), '1');
  src.data.set('a', '2');
  t = 999;
  assert.equal(cache.ensure('a'), undefined, 'fresh: nothing to await');
  assert.equal(cache.peek('a'), '1');
  assert.equal(src.reads(), 1);
  t = 1000;
  assert.equal(await cache.get('a'), '2');
  assert.equal(src.reads(), 2);
});

test('absent keys are remembered too, and invalidation forgets them at once', async () => {
  const src = source({});
  const cache = new TtlCache<string, string>((k) => src.load(k), { ttlMs: 1000, clock: () => 0 });
  assert.equal(await cache.get('k'), undefined);
  await cache.get('k');
  assert.equal(src.reads(), 1);
  src.data.set('k', 'new');
  cache.invalidate('k');
  assert.equal(await cache.get('k'), 'new');
});

test('concurrent misses share one read', async () => {
  const src = source({ a: '1' });
  const cache = new TtlCache<string, string>((k) => src.load(k), { clock: () => 0 });
  const release = src.hold();
  const p1 = cache.ensure('a');
  const p2 = cache.ensure('a');
  assert.equal(p1, p2);
  release();
  await p1;
  assert.equal(src.reads(), 1);
});

test('a change during a read: later requests do not get what the read saw', async () => {
  const src = source({ a: 'old' });
  const cache = new TtlCache<string, string>((k) => src.load(k), { clock: () => 0 });
  const release = src.hold();
  const early = cache.get('a'); // reads 'old', then waits
  src.data.set('a', 'new');
  cache.invalidate('a'); // the change commits meanwhile
  release(); // (later loads are not held)
  const late = cache.get('a');
  assert.equal(await late, 'new', 'a request after the change waits for a read after it');
  await early;
  assert.equal(cache.peek('a'), 'new', 'the late read is not overwritten by the early one');
  assert.ok(cache.isFresh('a'));
});

test('invalidateWhere and the size bound', async () => {
  const src = source({ a: 'x', b: 'y', c: 'x' });
  const cache = new TtlCache<string, string>((k) => src.load(k), { clock: () => 0, maxEntries: 2 });
  await cache.get('a');
  await cache.get('b');
  await cache.get('c'); // evicts a, the oldest
  assert.equal(cache.isFresh('a'), false);
  cache.invalidateWhere((v) => v === 'x');
  assert.equal(cache.isFresh('c'), false);
  assert.equal(cache.isFresh('b'), true);
});
