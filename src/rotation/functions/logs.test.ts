import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLog, logPath, readLog, tail } from './logs.js';
import { functionEndpoint } from './process-runtime.js';

test('a function log is created 0600, rotated to one old file, and read back whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-logs-'));
  try {
    assert.equal(readLog(dir, 'f'), undefined);
    appendLog(dir, 'f', 'one\n', 10);
    assert.equal(statSync(logPath(dir, 'f')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'functions', 'f')).mode & 0o777, 0o700);
    appendLog(dir, 'f', 'two\n', 10);
    assert.equal(readLog(dir, 'f'), 'one\ntwo\n');
    appendLog(dir, 'f', 'three\n', 10); // would pass 10 bytes: the log moves to log.1
    assert.ok(existsSync(logPath(dir, 'f') + '.1'));
    assert.equal(readLog(dir, 'f'), 'one\ntwo\nthree\n');
    appendLog(dir, 'f', 'four\n', 10); // a second rotation drops the oldest part
    assert.equal(readLog(dir, 'f'), 'three\nfour\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tail keeps the last bytes at a character boundary', () => {
  assert.equal(tail('abc', 10), 'abc');
  assert.equal(tail('abcdef', 3), 'def');
  assert.equal(tail('aé€', 4), '€'); // 'é' would be cut in half: dropped
  assert.ok(Buffer.byteLength(tail('x'.repeat(10_000))) <= 4096);
});

test('functions reach a wildcard listener on loopback', () => {
  assert.equal(functionEndpoint('http://0.0.0.0:8400'), 'http://127.0.0.1:8400');
  assert.equal(functionEndpoint('http://[::]:8400'), 'http://[::1]:8400');
  assert.equal(functionEndpoint('http://127.0.0.1:9000'), 'http://127.0.0.1:9000');
  assert.equal(functionEndpoint('http://[::1]:9000'), 'http://[::1]:9000');
});
