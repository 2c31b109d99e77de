import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMasterKeyFile, decodeMasterKeys, readMasterKeyFile, writeMasterKeyFile } from './master-key-file.js';

const b64 = () => randomBytes(32).toString('base64');

test('a list of keys: one a line or comma-separated, active first, comments and blanks skipped', () => {
  const [a, b, c] = [b64(), b64(), b64()];
  for (const text of [`${a}\n${b}\n${c}\n`, `# header\n\n${a}\n  ${b}  \n# note\n${c}`, `${a},${b}, ${c}`]) {
    assert.deepEqual(decodeMasterKeys(text, 'X').map((k) => k.toString('base64')), [a, b, c], JSON.stringify(text));
  }
});

test('bad lists name their origin, and which key is wrong', () => {
  assert.throws(() => decodeMasterKeys('', 'LOCKSTEP_MASTER_KEY'), /LOCKSTEP_MASTER_KEY must hold the base64 encoding of exactly 32 bytes/);
  assert.throws(() => decodeMasterKeys('# only a comment\n', 'f'), /f must hold/);
  assert.throws(() => decodeMasterKeys(randomBytes(16).toString('base64'), 'E'), /^Error: E must hold the base64 encoding of exactly 32 bytes$/);
  assert.throws(() => decodeMasterKeys(`${b64()},not base64!`, 'E'), /E \(key 2\) must hold/);
});

test('writing replaces the file atomically with mode 0600 and leaves no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-mk-'));
  const file = join(dir, 'master.key');
  createMasterKeyFile(file);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const first = readMasterKeyFile(file);
  assert.equal(first.length, 1);
  assert.throws(() => createMasterKeyFile(file), /EEXIST/, 'never overwrites an existing key');
  const next = randomBytes(32);
  writeMasterKeyFile(file, [next, ...first]);
  assert.deepEqual(readMasterKeyFile(file), [next, ...first]);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['master.key']);
  assert.match(readFileSync(file, 'utf8'), /^# Lockstep master keys/);
  assert.throws(() => writeMasterKeyFile(file, []), /at least one key/);
});

test('a first-start file holds exactly one base64 line, as before rotation existed', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'lockstep-mk-')), 'master.key');
  createMasterKeyFile(file);
  assert.match(readFileSync(file, 'utf8'), /^[A-Za-z0-9+/]{43}=\n$/);
  writeFileSync(file, readFileSync(file, 'utf8').trim()); // no trailing newline is fine too
  assert.equal(readMasterKeyFile(file).length, 1);
});
