import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDate } from './date.js';
import { parseNumber } from './numeric.js';
import { decodeBase64 } from './binary.js';
import { parseBool } from './bool.js';

test('parseDate reads the W3C ISO 8601 forms and epoch seconds', () => {
  const t = Date.UTC(2024, 4, 1, 10, 30, 15);
  assert.equal(parseDate('2024-05-01T10:30:15Z'), t);
  assert.equal(parseDate('2024-05-01T12:30:15+02:00'), t);
  assert.equal(parseDate('2024-05-01T05:30:15-0500'), t);
  assert.equal(parseDate('2024-05-01T10:30:15.500Z'), t + 500);
  assert.equal(parseDate('2024-05-01T10:30Z'), t - 15_000);
  assert.equal(parseDate('2024-05-01T10:30:15'), t, 'no zone: UTC');
  assert.equal(parseDate('2024-05-01'), Date.UTC(2024, 4, 1));
  assert.equal(parseDate('2024-05'), Date.UTC(2024, 4, 1));
  assert.equal(parseDate('2024'), Date.UTC(2024, 0, 1), 'four digits are a year');
  assert.equal(parseDate(String(t / 1000)), t);
  assert.equal(parseDate('1714559415.5'), t + 500);
  for (const bad of ['2024-02-30', '2024-13-01', '2024-05-01T25:00:00Z', 'yesterday', '', '2024-05-01 10:30:15Z']) {
    assert.equal(parseDate(bad), undefined, bad);
  }
});

test('parseNumber, parseBool, decodeBase64', () => {
  assert.equal(parseNumber(' 42 '), 42);
  assert.equal(parseNumber('-1.5e3'), -1500);
  assert.equal(parseNumber('.5'), 0.5);
  for (const bad of ['', 'abc', '1,000', '0x10', 'Infinity']) assert.equal(parseNumber(bad), undefined, bad);
  assert.equal(parseBool('TRUE'), true);
  assert.equal(parseBool('false'), false);
  assert.equal(parseBool('1'), undefined);
  assert.equal(decodeBase64('QmluYXJ5')?.toString(), 'Binary');
  assert.equal(decodeBase64('not base64!'), undefined);
  assert.equal(decodeBase64(''), undefined);
});
