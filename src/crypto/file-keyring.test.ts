import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyring } from './file-keyring.js';
import { kekIdOf } from './kek.js';
import { writeMasterKeyFile } from './master-key-file.js';
import { openValue, sealValue } from './envelope.js';

const ctx = { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf', versionId: 'v1' };

function keyFile(keys: Buffer[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lockstep-fk-')), 'master.key');
  writeMasterKeyFile(file, keys);
  return file;
}

test('the active key is the first of the file, the others open', () => {
  const [a, b] = [randomBytes(32), randomBytes(32)];
  const ring = new FileKeyring(keyFile([a, b]));
  assert.equal(ring.active.id, kekIdOf(a));
  assert.equal(ring.get(kekIdOf(b))?.key.equals(b), true);
  assert.deepEqual(ring.ids(), [kekIdOf(a), kekIdOf(b)]);
});

test('a rotated file is picked up: sealing follows the new active key, old values still open', () => {
  const [old, fresh] = [randomBytes(32), randomBytes(32)];
  const file = keyFile([old]);
  const server = new FileKeyring(file); // a running server's view
  const before = sealValue(server, { kind: 'string', text: 'before' }, ctx);
  writeMasterKeyFile(file, [fresh, old]); // `lockstep keys rotate` in another process
  assert.equal(server.active.id, kekIdOf(fresh), 'sealing follows the file at once');
  const after = sealValue(server, { kind: 'string', text: 'after' }, ctx);
  assert.deepEqual(openValue(server, before, ctx), { kind: 'string', text: 'before' });
  assert.deepEqual(openValue(new FileKeyring(file), after, ctx), { kind: 'string', text: 'after' });
});

test('an unknown key id makes the keyring read the file again (a value re-wrapped by another process)', () => {
  const [old, fresh] = [randomBytes(32), randomBytes(32)];
  const file = keyFile([old]);
  const server = new FileKeyring(file);
  writeMasterKeyFile(file, [fresh, old]);
  const rewrapped = sealValue(new FileKeyring(file), { kind: 'string', text: 'v' }, ctx);
  assert.deepEqual(openValue(server, rewrapped, ctx), { kind: 'string', text: 'v' });
  assert.equal(server.get('local-0000000000000000'), undefined);
});

test('keys are never forgotten, and a broken file is ignored until it is fixed', () => {
  const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const file = keyFile([a, b]);
  const ring = new FileKeyring(file);
  writeFileSync(file, 'half-written garbage\n');
  assert.equal(ring.active.id, kekIdOf(a), 'a broken file changes nothing');
  writeMasterKeyFile(file, [c]);
  assert.equal(ring.active.id, kekIdOf(c));
  assert.ok(ring.get(kekIdOf(a)) && ring.get(kekIdOf(b)), 'keys dropped from the file stay in memory');
});

test('a missing or malformed file fails at construction with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-fk-'));
  assert.throws(() => new FileKeyring(join(dir, 'master.key')), /ENOENT/);
  writeFileSync(join(dir, 'bad.key'), 'nope\n');
  assert.throws(() => new FileKeyring(join(dir, 'bad.key')), /bad\.key must hold the base64 encoding of exactly 32 bytes/);
});
