import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../errors.js';
import { envelopeKekId, openValue, sealValue } from './envelope.js';
import { keyringOf } from './keyring.js';
import {
  aliasNameProblem, isNamedEnvelope, keyIdOfKekId, kmsArnPrefix, namedKekId, namedKeyring, newNamedKey, openNamedKey, parseKeyRef,
} from './named-keys.js';

const prefix = kmsArnPrefix('aws', 'us-east-1', '123456789012');
const id = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ctx = { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf', versionId: 'v1' };

test('key references: key id, key ARN, alias name, alias ARN, foreign and invalid', () => {
  const cases: [string, unknown][] = [
    [id, { kind: 'key', keyId: id }],
    [id.toUpperCase(), { kind: 'key', keyId: id }],
    [`${prefix}key/${id}`, { kind: 'key', keyId: id, arn: `${prefix}key/${id}` }],
    ['alias/app', { kind: 'alias', alias: 'alias/app' }],
    ['alias/team/app_1-x', { kind: 'alias', alias: 'alias/team/app_1-x' }],
    [`${prefix}alias/app`, { kind: 'alias', alias: 'alias/app', arn: `${prefix}alias/app` }],
    [`arn:aws:kms:eu-west-1:123456789012:key/${id}`, { kind: 'foreign', arn: `arn:aws:kms:eu-west-1:123456789012:key/${id}` }],
    ['arn:aws:kms:us-east-1:999999999999:alias/app', { kind: 'foreign', arn: 'arn:aws:kms:us-east-1:999999999999:alias/app' }],
    ['app', { kind: 'invalid' }],
    ['alias/', { kind: 'invalid' }],
    ['alias/with space', { kind: 'invalid' }],
    [`${prefix}key/not-a-uuid`, { kind: 'invalid' }],
    [`${prefix}secret:x`, { kind: 'invalid' }],
    ['', { kind: 'invalid' }],
  ];
  for (const [ref, want] of cases) assert.deepEqual(parseKeyRef(ref, prefix), want, ref);
});

test('alias names follow KMS: alias/ prefix, allowed characters, alias/aws/ reserved, 256 characters', () => {
  assert.equal(aliasNameProblem('alias/app'), undefined);
  assert.match(aliasNameProblem('app') ?? '', /must begin with alias\//);
  assert.match(aliasNameProblem('alias/a b') ?? '', /may hold only/);
  assert.match(aliasNameProblem('alias/aws/secretsmanager') ?? '', /reserved/);
  assert.match(aliasNameProblem('alias/' + 'a'.repeat(251)) ?? '', /at most 256/);
});

test('envelope key ids of named keys', () => {
  assert.equal(namedKekId(id), `key/${id}`);
  assert.equal(keyIdOfKekId(`key/${id}`), id);
  assert.equal(keyIdOfKekId('local-0123456789abcdef'), undefined);
});

test('key hierarchy: master key -> named key material -> data key', () => {
  const master = keyringOf([randomBytes(32)]);
  const rec = newNamedKey(master, 'app', 1);
  assert.equal(rec.enabled, true);
  assert.equal(envelopeKekId(rec.sealedMaterial), master.active.id, 'the material is sealed under the master key');
  const kek = openNamedKey(master, rec);
  assert.equal(kek.id, `key/${rec.keyId}`);
  assert.equal(kek.key.length, 32);
  const stored = sealValue(namedKeyring(kek), { kind: 'string', text: 'hello' }, ctx);
  assert.equal(envelopeKekId(stored), `key/${rec.keyId}`);
  assert.equal(isNamedEnvelope(stored), true);
  assert.equal(isNamedEnvelope(sealValue(master, { kind: 'string', text: 'x' }, ctx)), false);
  assert.equal(isNamedEnvelope(Buffer.alloc(0)), false);
  assert.deepEqual(openValue(namedKeyring(kek), stored, ctx), { kind: 'string', text: 'hello' });
  const isFailure = (e: unknown) => e instanceof ServiceError && e.code === 'DecryptionFailure';
  assert.throws(() => openValue(master, stored, ctx), isFailure, 'the master key alone does not open it');
  const other = openNamedKey(master, newNamedKey(master, 'other', 2));
  assert.throws(() => openValue(namedKeyring(other), stored, ctx), isFailure, 'another named key does not open it');
  const env = Buffer.from(stored);
  env.write(other.id, 2, 'utf8'); // relabel the envelope with the other key's id
  assert.throws(() => openValue(namedKeyring(other), env, ctx), isFailure, 'nor does relabelling the envelope help');
  assert.throws(() => openNamedKey(keyringOf([randomBytes(32)]), rec), isFailure, 'another master key does not open the material');
  assert.throws(() => openNamedKey(master, { ...rec, keyId: '00000000-0000-4000-8000-000000000000' }), isFailure, 'material is bound to its key id');
});
