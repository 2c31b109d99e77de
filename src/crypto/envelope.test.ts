import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeEnvelope, encodeEnvelope, open, openValue, seal, sealValue } from './envelope.js';
import { keyringOf } from './keyring.js';
import { ServiceError } from '../errors.js';

const ring = keyringOf([randomBytes(32)]);
const ctx = { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbC123', versionId: 'v1' };
const isDecryptionFailure = (e: unknown) => e instanceof ServiceError && e.code === 'DecryptionFailure';

test('round trip of string and binary values', () => {
  const s = sealValue(ring, { kind: 'string', text: 'héllo' }, ctx);
  assert.deepEqual(openValue(ring, s, ctx), { kind: 'string', text: 'héllo' });
  const bytes = Buffer.from([0, 1, 254, 255]);
  const b = sealValue(ring, { kind: 'binary', bytes }, ctx);
  assert.deepEqual(openValue(ring, b, ctx), { kind: 'binary', bytes });
});

test('each seal uses a fresh data key and nonce', () => {
  const a = seal(ring, Buffer.from('same'), ctx);
  const b = seal(ring, Buffer.from('same'), ctx);
  assert.notDeepEqual(a.wrappedKey, b.wrappedKey);
  assert.notDeepEqual(a.nonce, b.nonce);
  assert.notDeepEqual(a.ciphertext, b.ciphertext);
  assert.equal(a.tag.length, 16);
  assert.equal(a.nonce.length, 12);
});

test('every single bit flip anywhere in the stored bytes gives DecryptionFailure', () => {
  const stored = sealValue(ring, { kind: 'string', text: 'secret-value' }, ctx);
  for (let i = 0; i < stored.length; i++) {
    for (const bit of [0, 3, 7]) {
      const t = Buffer.from(stored);
      t[i] ^= 1 << bit;
      assert.throws(() => openValue(ring, t, ctx), isDecryptionFailure, `byte ${i} bit ${bit}`);
    }
  }
});

test('truncation, a shortened tag, and garbage give DecryptionFailure', () => {
  const stored = sealValue(ring, { kind: 'string', text: 'secret-value' }, ctx);
  for (let n = 0; n < stored.length; n++) {
    assert.throws(() => openValue(ring, stored.subarray(0, n), ctx), isDecryptionFailure, `truncated to ${n}`);
  }
  const env = decodeEnvelope(stored);
  assert.throws(() => open(ring, { ...env, tag: env.tag.subarray(0, 12) }, ctx), isDecryptionFailure);
  assert.throws(() => openValue(ring, randomBytes(200), ctx), isDecryptionFailure);
});

test('a ciphertext moved to another secret or version, or swapped between rows, does not open', () => {
  const a = sealValue(ring, { kind: 'string', text: 'A' }, ctx);
  const other = { ...ctx, secretArn: ctx.secretArn.replace('a-AbC123', 'b-XyZ789') };
  assert.throws(() => openValue(ring, a, other), isDecryptionFailure);
  assert.throws(() => openValue(ring, a, { ...ctx, versionId: 'v2' }), isDecryptionFailure);
  // swap the wrapped key of two envelopes of the same secret and version
  const b = sealValue(ring, { kind: 'string', text: 'B' }, ctx);
  const ea = decodeEnvelope(a);
  const eb = decodeEnvelope(b);
  assert.throws(() => open(ring, { ...ea, wrappedKey: eb.wrappedKey }, ctx), isDecryptionFailure);
  assert.throws(() => open(ring, { ...ea, ciphertext: eb.ciphertext, tag: eb.tag, nonce: eb.nonce }, ctx), isDecryptionFailure);
});

test('another master key, or an unknown key id, gives DecryptionFailure', () => {
  const stored = sealValue(ring, { kind: 'string', text: 'x' }, ctx);
  assert.throws(() => openValue(keyringOf([randomBytes(32)]), stored, ctx), isDecryptionFailure);
  const env = decodeEnvelope(stored);
  assert.throws(() => open(ring, { ...env, kekId: 'local-0000000000000000' }, ctx), isDecryptionFailure);
  assert.throws(() => open(ring, { ...env, format: 2 }, ctx), isDecryptionFailure);
});

test('the encoding keeps every field', () => {
  const env = seal(ring, Buffer.from('abc'), ctx);
  assert.deepEqual(decodeEnvelope(encodeEnvelope(env)), env);
});
