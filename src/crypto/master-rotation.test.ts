import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openKeySecret, sealKeySecret } from '../auth/access-keys.js';
import { environmentContext } from '../rotation/functions/config.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/types.js';
import { envelopeKekId, openValue, sealValue } from './envelope.js';
import { kekIdOf, loadMasterKey, type Keyring } from './keyring.js';
import { readMasterKeyFile, writeMasterKeyFile } from './master-key-file.js';
import { rotateMasterKey } from './master-rotation.js';
import { namedKeyring, newNamedKey, openNamedKey } from './named-keys.js';

const ARN = (n: number) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:s${n}-AbCdEf`;

interface Seeded {
  dir: string;
  store: Store;
  keyId: string;
  namedSealed: Buffer;
}

/** A data directory with every kind of sealed value: default-key versions, a named key and its value, an access key, a function. */
async function seed(versions = 7, env: NodeJS.ProcessEnv = {}): Promise<Seeded> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-rot-'));
  const loaded = loadMasterKey(dir, env);
  const ring = loaded.keyring;
  const store = new SqliteStore(join(dir, 'lockstep.sqlite'));
  const named = newNamedKey(ring, 'app', 1);
  const namedRing = namedKeyring(openNamedKey(ring, named));
  let namedSealed: Buffer = Buffer.alloc(0);
  await store.transaction(async (tx) => {
    await tx.meta.set('kek_id', ring.active.id);
    await tx.keys.insertKey(named);
    for (let n = 0; n < versions; n++) {
      const id = await tx.secrets.insertSecret(secretRow(n));
      await tx.secrets.insertVersion(id, {
        versionId: 'v1', createdMs: 1, lastAccessedMs: null, sealed: sealValue(ring, { kind: 'string', text: `value-${n}` }, { secretArn: ARN(n), versionId: 'v1' }),
        kmsKeyIds: ['DefaultEncryptionKey'], stages: [],
      });
    }
    const id = await tx.secrets.insertSecret(secretRow(99));
    namedSealed = sealValue(namedRing, { kind: 'string', text: 'named' }, { secretArn: ARN(99), versionId: 'v1' });
    await tx.secrets.insertVersion(id, { versionId: 'v1', createdMs: 1, lastAccessedMs: null, sealed: namedSealed, kmsKeyIds: ['arn'], stages: [] });
    await tx.identity.putAccessKey({ accessKeyId: 'LKIAROTATIONTEST0001', sealedSecret: sealKeySecret(ring, 'LKIAROTATIONTEST0001', 'root-secret'), principal: 'root', createdMs: 1, status: 'Active' });
    const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:f';
    await tx.functions.put({
      name: 'f', arn: fnArn, runtime: 'nodejs20.x', handler: 'index.handler', role: 'r', description: '', timeoutS: 3, memoryMb: 128,
      sealedEnvironment: sealValue(ring, { kind: 'string', text: '{"A":"1"}' }, environmentContext(fnArn)), code: Buffer.from('zip'),
      codeSha256: 'x', codeSize: 3, policy: null, createdMs: 1, lastModifiedMs: 1, revisionId: 'r',
    });
  });
  return { dir, store, keyId: named.keyId, namedSealed };
}

function secretRow(n: number) {
  return {
    arn: ARN(n), name: `s${n}`, description: null, kmsKeyId: null, createdMs: 1, lastChangedMs: 1, lastAccessedMs: null, deletedMs: null,
    deletionMs: null, rotationEnabled: null, rotationLambdaArn: null, rotationRules: null, lastRotatedMs: null, nextRotationMs: null,
    rotationDueMs: null, owningService: null, primaryRegion: 'us-east-1', resourcePolicy: null, tagged: false,
  };
}

/** The master key ids every master-sealed row is under, and a check that everything opens with `ring`. */
async function audit(s: Seeded, ring: Keyring): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const kind of ['kms-key', 'version', 'access-key', 'function'] as const) {
    for (const row of await s.store.read((tx) => tx.keys.sealedRows(kind, null, 1000))) {
      const kekId = envelopeKekId(row.sealed)!;
      if (kekId.startsWith('key/')) {
        const rec = (await s.store.read((tx) => tx.keys.key(s.keyId)))!;
        assert.deepEqual(openValue(namedKeyring(openNamedKey(ring, rec)), row.sealed, { secretArn: row.owner, versionId: row.part }), { kind: 'string', text: 'named' });
        continue;
      }
      ids.add(kekId);
      if (kind === 'version') assert.equal(openValue(ring, row.sealed, { secretArn: row.owner, versionId: row.part }).kind, 'string');
      if (kind === 'access-key') assert.equal(openKeySecret(ring, { accessKeyId: row.owner, sealedSecret: row.sealed }), 'root-secret');
      if (kind === 'function') assert.deepEqual(openValue(ring, row.sealed, environmentContext(row.owner)), { kind: 'string', text: '{"A":"1"}' });
      if (kind === 'kms-key') openNamedKey(ring, (await s.store.read((tx) => tx.keys.key(row.owner)))!);
    }
  }
  return ids;
}

async function meta(store: Store) {
  return store.read(async (tx) => ({ kek: await tx.meta.get('kek_id'), rotation: await tx.meta.get('kek_rotation') }));
}

test('a rotation re-wraps everything sealed under the master key, and leaves named-key values alone', async () => {
  const s = await seed();
  const before = readMasterKeyFile(join(s.dir, 'master.key'));
  const loaded = loadMasterKey(s.dir, {});
  const lines: string[] = [];
  const r = await rotateMasterKey({ store: s.store, dataDir: s.dir, loaded, env: {}, batch: 2, log: (l) => lines.push(l) });
  assert.equal(r.complete, true);
  assert.equal(r.resumed, false);
  assert.deepEqual(r.rewrapped, { 'kms-key': 1, version: 7, 'access-key': 1, function: 1 });
  assert.deepEqual(r.unopenable, []);
  const after = readMasterKeyFile(join(s.dir, 'master.key'));
  assert.equal(after.length, 2);
  assert.deepEqual(after[1], before[0], 'the old key stays, retired');
  assert.equal(r.target, kekIdOf(after[0]));
  assert.deepEqual([...(await audit(s, loadMasterKey(s.dir, {}).keyring))], [r.target]);
  const named = (await s.store.read((tx) => tx.keys.sealedRows('version', null, 100))).find((row) => row.owner === ARN(99))!;
  assert.deepEqual(named.sealed, s.namedSealed, 'values under a named key are not touched');
  assert.deepEqual(await meta(s.store), { kek: r.target, rotation: '' });
  assert.ok(lines.some((l) => /^re-wrapped 7 secret versions$/.test(l)), lines.join('\n'));
  await s.store.close();
});

test('an interrupted rotation leaves everything readable and resumes to the same key', async () => {
  const s = await seed(9);
  const controller = new AbortController();
  const r1 = await rotateMasterKey({
    store: s.store, dataDir: s.dir, loaded: loadMasterKey(s.dir, {}), env: {}, batch: 1, signal: controller.signal,
    log: (l) => {
      if (/^re-wrapped 3 secret versions$/.test(l)) controller.abort();
    },
  });
  assert.equal(r1.complete, false);
  assert.equal(r1.rewrapped.version, 3);
  const m = await meta(s.store);
  assert.equal(m.kek, r1.target, 'start-up checks against the new key at once');
  assert.equal(JSON.parse(m.rotation!).target, r1.target);
  // A restart now (a fresh load) opens everything: some rows under the new key, some under the old.
  const mixed = await audit(s, loadMasterKey(s.dir, {}).keyring);
  assert.equal(mixed.size, 2);
  const r2 = await rotateMasterKey({ store: s.store, dataDir: s.dir, loaded: loadMasterKey(s.dir, {}), env: {}, batch: 4 });
  assert.equal(r2.resumed, true);
  assert.equal(r2.complete, true);
  assert.equal(r2.target, r1.target, 'no second new key');
  assert.equal(r2.rewrapped.version, 6);
  assert.equal(readMasterKeyFile(join(s.dir, 'master.key')).length, 2);
  assert.deepEqual([...(await audit(s, loadMasterKey(s.dir, {}).keyring))], [r1.target]);
  assert.deepEqual(await meta(s.store), { kek: r1.target, rotation: '' });
  await s.store.close();
});

test('a crash between writing master.key and telling the database: the next run finishes that rotation', async () => {
  const s = await seed(3);
  const file = join(s.dir, 'master.key');
  const fresh = randomBytes(32);
  writeMasterKeyFile(file, [fresh, ...readMasterKeyFile(file)]);
  const r = await rotateMasterKey({ store: s.store, dataDir: s.dir, loaded: loadMasterKey(s.dir, {}), env: {} });
  assert.deepEqual([r.resumed, r.complete, r.target], [true, true, kekIdOf(fresh)]);
  assert.equal(readMasterKeyFile(file).length, 2);
  await s.store.close();
});

test('a value sealed under an old key by a lagging writer during the rotation is caught by another pass', async () => {
  const s = await seed(4);
  const old = loadMasterKey(s.dir, {}).keyring.active; // the view of a server that has not noticed yet
  const oldRing = { active: old, get: (id: string) => (id === old.id ? old : undefined) };
  let late: Promise<void> | undefined;
  const r = await rotateMasterKey({
    store: s.store, dataDir: s.dir, loaded: loadMasterKey(s.dir, {}), env: {}, batch: 1, throttleMs: 5,
    log: (l) => {
      if (late || !/^re-wrapped 2 secret versions$/.test(l)) return;
      // a new version of the first secret, which this pass has already gone past
      late = s.store.transaction(async (tx) => {
        const first = (await tx.secrets.byName('s0'))!;
        await tx.secrets.insertVersion(first.id, {
          versionId: 'v2', createdMs: 2, lastAccessedMs: null, sealed: sealValue(oldRing, { kind: 'string', text: 'late' }, { secretArn: ARN(0), versionId: 'v2' }),
          kmsKeyIds: ['DefaultEncryptionKey'], stages: [],
        });
      });
    },
  });
  await late;
  assert.ok(late, 'the late write happened');
  assert.equal(r.complete, true);
  assert.equal(r.rewrapped.version, 5, 'four values and the late one');
  assert.deepEqual([...(await audit(s, loadMasterKey(s.dir, {}).keyring))], [r.target]);
  await s.store.close();
});

test('with LOCKSTEP_MASTER_KEY: one key is refused with guidance; new,old re-wraps under new', async () => {
  const current = randomBytes(32).toString('base64');
  const s = await seed(3, { LOCKSTEP_MASTER_KEY: current });
  const one = { LOCKSTEP_MASTER_KEY: current };
  await assert.rejects(
    rotateMasterKey({ store: s.store, dataDir: s.dir, loaded: loadMasterKey(s.dir, one), env: one }),
    /LOCKSTEP_MASTER_KEY, which Lockstep cannot change.*LOCKSTEP_MASTER_KEY=<new>,<current> lockstep keys rotate/,
  );
  const fresh = randomBytes(32);
  const both = { LOCKSTEP_MASTER_KEY: `${fresh.toString('base64')},${current}` };
  const r = await rotateMasterKey({ store: s.store, dataDir: s.dir, loaded: loadMasterKey(s.dir, both), env: both });
  assert.deepEqual([r.complete, r.target, r.rewrapped.version], [true, kekIdOf(fresh), 3]);
  assert.deepEqual([...(await audit(s, loadMasterKey(s.dir, both).keyring))], [kekIdOf(fresh)]);
  const wrong = { LOCKSTEP_MASTER_KEY: randomBytes(32).toString('base64') };
  await assert.rejects(
    rotateMasterKey({ store: s.store, dataDir: s.dir, loaded: loadMasterKey(s.dir, wrong), env: wrong }),
    /does not hold the data directory's master key/,
  );
  await s.store.close();
});

test('a value no master key opens is reported and left alone; the rotation still finishes', async () => {
  const s = await seed(2);
  await s.store.transaction(async (tx) => {
    const id = await tx.secrets.insertSecret(secretRow(50));
    const foreign = loadMasterKey(mkdtempSync(join(tmpdir(), 'lockstep-rot-')), {}).keyring;
    await tx.secrets.insertVersion(id, {
      versionId: 'v1', createdMs: 1, lastAccessedMs: null, sealed: sealValue(foreign, { kind: 'string', text: 'x' }, { secretArn: ARN(50), versionId: 'v1' }),
      kmsKeyIds: ['DefaultEncryptionKey'], stages: [],
    });
  });
  const r = await rotateMasterKey({ store: s.store, dataDir: s.dir, loaded: loadMasterKey(s.dir, {}), env: {} });
  assert.equal(r.complete, true);
  assert.deepEqual(r.unopenable, [{ kind: 'version', owner: ARN(50), part: 'v1' }]);
  await s.store.close();
});
