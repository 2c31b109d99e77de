import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scramSha256Verifier } from './scram.js';

test('SCRAM-SHA-256 verifier matches the RFC 7677 test vector', () => {
  // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
  // StoredKey and ServerKey derived from that SaltedPassword (cross-checked with Python hashlib/hmac).
  const v = scramSha256Verifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
  assert.equal(
    v,
    'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
  );
});

test('SCRAM-SHA-256 verifier uses a fresh salt each time', () => {
  const a = scramSha256Verifier('same password');
  const b = scramSha256Verifier('same password');
  assert.notEqual(a, b);
  assert.match(a, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
  assert.ok(!a.includes('same password'));
});
