import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ERROR_CHARS, redact } from './redact.js';

test('values and the string fields of JSON values are removed from error texts', () => {
  const current = JSON.stringify({ username: 'app', password: 'hunter2-very-secret', port: 5432 });
  const pending = 'plain-pending-value';
  const text = `login failed for app with hunter2-very-secret; tried plain-pending-value and ${current}`;
  const out = redact(text, [current, pending]);
  assert.ok(!out.includes('hunter2-very-secret'));
  assert.ok(!out.includes('plain-pending-value'));
  assert.ok(out.includes('login failed for app'), 'short fields (under 4 characters) are left: they match everything');
  assert.equal(redact('nothing here', [current]), 'nothing here');
});

test('a value containing another is removed whole; long texts are cut', () => {
  assert.equal(redact('xx abcdefgh yy', ['abcd', 'abcdefgh']), 'xx [REDACTED] yy');
  const long = redact('e'.repeat(5000), []);
  assert.equal(long.length, MAX_ERROR_CHARS + 1);
});

test('connection descriptors of a database secret stay readable; the password does not', () => {
  const secret = JSON.stringify({ engine: 'postgres', host: 'db.internal', port: 5432, username: 'app_user', password: 'pw-canary-99', dbname: 'shop' });
  const out = redact("cannot connect to PostgreSQL at db.internal:5432 as 'app_user' (database shop, engine postgres) with pw-canary-99", [secret]);
  assert.equal(out, "cannot connect to PostgreSQL at db.internal:5432 as 'app_user' (database shop, engine postgres) with [REDACTED]");
});
