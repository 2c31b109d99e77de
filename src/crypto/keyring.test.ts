import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kekIdOf, keyringOf, loadMasterKey } from './keyring.js';
import { FileKeyring } from './file-keyring.js';

test('first load creates master.key (0600); loading again gives the same key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-kr-'));
  const a = loadMasterKey(dir, {});
  assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
  assert.equal(a.fromEnv, false);
  assert.ok(a.keyring instanceof FileKeyring);
  assert.deepEqual(loadMasterKey(dir, {}).key, a.key);
});

test('LOCKSTEP_MASTER_KEY: one key, or several with the active one first; no file is created', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-kr-'));
  const [n, o] = [randomBytes(32), randomBytes(32)];
  const one = loadMasterKey(dir, { LOCKSTEP_MASTER_KEY: n.toString('base64') });
  assert.deepEqual([one.fromEnv, one.source, one.keyring.active.id], [true, 'LOCKSTEP_MASTER_KEY', kekIdOf(n)]);
  const two = loadMasterKey(dir, { LOCKSTEP_MASTER_KEY: `${n.toString('base64')},${o.toString('base64')}` });
  assert.equal(two.keyring.active.id, kekIdOf(n));
  assert.ok(two.keyring.get(kekIdOf(o)), 'the retired key still opens');
  assert.ok(!existsSync(join(dir, 'master.key')));
});

test('keyringOf the loaded key gives back the whole keyring; other keys give a ring of their own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-kr-'));
  const [n, o] = [randomBytes(32), randomBytes(32)];
  const loaded = loadMasterKey(dir, { LOCKSTEP_MASTER_KEY: `${n.toString('base64')},${o.toString('base64')}` });
  assert.equal(keyringOf([loaded.key]), loaded.keyring);
  const plain = keyringOf([Buffer.from(loaded.key)]);
  assert.notEqual(plain, loaded.keyring);
  assert.equal(plain.get(kekIdOf(o)), undefined);
});
