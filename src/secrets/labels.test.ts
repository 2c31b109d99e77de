import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attach, labelMapOf, moveStage, stagesOf, versionsToPurge, type LabelMap } from './labels.js';
import { ServiceError } from '../errors.js';

const map = (o: Record<string, string>): LabelMap => new Map(Object.entries(o));
const obj = (m: LabelMap) => Object.fromEntries([...m].sort());

test('attach: AWSCURRENT moving away moves AWSPREVIOUS to the old current', () => {
  const cases: [Record<string, string>, string, string[], Record<string, string>][] = [
    [{}, 'v1', ['AWSCURRENT'], { AWSCURRENT: 'v1' }],
    [{ AWSCURRENT: 'v1' }, 'v2', ['AWSCURRENT'], { AWSCURRENT: 'v2', AWSPREVIOUS: 'v1' }],
    [{ AWSCURRENT: 'v2', AWSPREVIOUS: 'v1' }, 'v3', ['AWSCURRENT'], { AWSCURRENT: 'v3', AWSPREVIOUS: 'v2' }],
    [{ AWSCURRENT: 'v1' }, 'v2', ['AWSPENDING'], { AWSCURRENT: 'v1', AWSPENDING: 'v2' }],
    [{ AWSCURRENT: 'v1' }, 'v1', ['AWSCURRENT'], { AWSCURRENT: 'v1' }],
    [{ AWSCURRENT: 'v1', one: 'v1' }, 'v2', ['one', 'two'], { AWSCURRENT: 'v1', one: 'v2', two: 'v2' }],
    [{ AWSCURRENT: 'v1', AWSPENDING: 'v2' }, 'v2', ['AWSCURRENT'], { AWSCURRENT: 'v2', AWSPENDING: 'v2', AWSPREVIOUS: 'v1' }],
  ];
  for (const [before, version, stages, after] of cases) {
    assert.deepEqual(obj(attach(map(before), version, stages)), after, JSON.stringify({ before, version, stages }));
  }
});

test('attach with a new version drops a stale AWSPENDING from the old current', () => {
  const before = map({ AWSCURRENT: 'v2', AWSPENDING: 'v2', AWSPREVIOUS: 'v1' });
  assert.deepEqual(obj(attach(before, 'v3', ['AWSCURRENT'], true)), { AWSCURRENT: 'v3', AWSPREVIOUS: 'v2' });
  assert.deepEqual(obj(attach(before, 'v3', ['AWSCURRENT'])), { AWSCURRENT: 'v3', AWSPENDING: 'v2', AWSPREVIOUS: 'v2' });
  assert.deepEqual(obj(attach(before, 'v3', ['AWSCURRENT', 'AWSPENDING'], true)), { AWSCURRENT: 'v3', AWSPENDING: 'v3', AWSPREVIOUS: 'v2' });
  const pendingElsewhere = map({ AWSCURRENT: 'v2', AWSPENDING: 'v1' });
  assert.deepEqual(obj(attach(pendingElsewhere, 'v3', ['AWSCURRENT'], true)), { AWSCURRENT: 'v3', AWSPENDING: 'v1', AWSPREVIOUS: 'v2' });
});

test('attach does not change its input', () => {
  const m = map({ AWSCURRENT: 'v1' });
  attach(m, 'v2', ['AWSCURRENT']);
  assert.deepEqual(obj(m), { AWSCURRENT: 'v1' });
});

test('stagesOf returns sorted labels; labelMapOf inverts it', () => {
  const m = labelMapOf([
    { versionId: 'a', stages: ['two', 'AWSCURRENT', 'one'] },
    { versionId: 'b', stages: ['three'] },
  ]);
  assert.deepEqual(stagesOf(m, 'a'), ['AWSCURRENT', 'one', 'two']);
  assert.deepEqual(stagesOf(m, 'b'), ['three']);
  assert.deepEqual(stagesOf(m, 'c'), []);
});

test('moveStage: moves, removals and refusals', () => {
  const exists = (id: string) => ['v1', 'v2', 'v3'].includes(id);
  const base = map({ AWSCURRENT: 'v1', AWSPENDING: 'v2', custom: 'v1' });
  assert.deepEqual(obj(moveStage(base, 'AWSCURRENT', 'v2', 'v1', exists)), {
    AWSCURRENT: 'v2', AWSPENDING: 'v2', AWSPREVIOUS: 'v1', custom: 'v1',
  });
  assert.deepEqual(obj(moveStage(base, 'custom', undefined, 'v1', exists)), { AWSCURRENT: 'v1', AWSPENDING: 'v2' });
  assert.deepEqual(obj(moveStage(base, 'fresh', 'v3', undefined, exists)), {
    AWSCURRENT: 'v1', AWSPENDING: 'v2', custom: 'v1', fresh: 'v3',
  });
  // moving onto the version that already has it is a no-op
  assert.deepEqual(obj(moveStage(base, 'custom', 'v1', undefined, exists)), obj(base));
  const refusals: [string, string | undefined, string | undefined, RegExp][] = [
    ['AWSCURRENT', 'v2', undefined, /RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version v1/],
    ['custom', 'v2', 'v3', /not attached to version v3/],
    ['AWSCURRENT', undefined, 'v1', /AWSCURRENT/],
    ['custom', undefined, undefined, /MoveToVersionId or RemoveFromVersionId/],
    ['custom', 'nope', 'v1', /nope doesn't exist/],
    ['custom', 'v2', 'nope', /nope doesn't exist/],
  ];
  for (const [stage, to, from, re] of refusals) {
    assert.throws(
      () => moveStage(base, stage, to, from, exists),
      (e: unknown) => e instanceof ServiceError && e.code === 'InvalidParameterException' && re.test(e.message),
      `${stage} ${to} ${from}`,
    );
  }
});

test('versionsToPurge keeps 100 versions, labelled ones, and anything younger than 24 h', () => {
  const H = 3600_000;
  const now = 1000 * H;
  const versions = Array.from({ length: 110 }, (_, i) => ({ versionId: `v${i}`, createdMs: now - (200 - i) * H }));
  const labels = map({ AWSCURRENT: 'v109', AWSPREVIOUS: 'v0' });
  const purged = versionsToPurge(versions, labels, now);
  assert.equal(purged.length, 10);
  assert.ok(!purged.includes('v0'), 'labelled versions stay');
  assert.deepEqual(purged, Array.from({ length: 10 }, (_, i) => `v${i + 1}`));
  const young = versions.map((v) => ({ ...v, createdMs: now - H }));
  assert.deepEqual(versionsToPurge(young, labels, now), []);
  assert.deepEqual(versionsToPurge(versions.slice(0, 100), labels, now), []);
});
