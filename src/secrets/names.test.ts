import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arnPrefix, assertValidName, randomSuffix, secretRefs } from './names.js';
import { ServiceError } from '../errors.js';

const P = arnPrefix('aws', 'us-east-1', '123456789012');

test('valid and invalid names', () => {
  for (const ok of ['a', 'prod/db', 'Valid/_+=.@-Name', 'x!y', 'n'.repeat(512)]) assert.doesNotThrow(() => assertValidName(ok), ok);
  for (const bad of ['', 'Inv Name', ' Inv Name', ' Inv*Name? ', ' Inv *?!]Name\\-', 'a:b', 'é', 'n'.repeat(513)]) {
    assert.throws(
      () => assertValidName(bad),
      (e: unknown) =>
        e instanceof ServiceError && e.code === 'ValidationException' &&
        e.message === 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      JSON.stringify(bad),
    );
  }
});

test('randomSuffix is six alphanumerics', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const s = randomSuffix();
    assert.match(s, /^[A-Za-z0-9]{6}$/);
    seen.add(s);
  }
  assert.ok(seen.size > 190);
});

test('secretRefs: names, full and partial ARNs, in the order AWS tries them', () => {
  const cases: [string, ReturnType<typeof secretRefs>][] = [
    ['prod/db', [{ by: 'name', name: 'prod/db' }]],
    [P + 'prod/db-AbC123', [{ by: 'arn', arn: P + 'prod/db-AbC123' }]],
    // a name ending in -xxxxxx given as a partial ARN reads as a full ARN only, as on AWS
    [P + 'Invalid/_+=.@-Name-a1b2c3', [{ by: 'arn', arn: P + 'Invalid/_+=.@-Name-a1b2c3' }]],
    [P + 'prod/db', [{ by: 'name', name: 'prod/db' }]],
    [P + 's-c64bdc03-', [{ by: 'name', name: 's-c64bdc03-' }, { by: 'name', name: 's-c64bdc03' }]],
    [P + 'Valid/_+=.@-Name-a1b2c3-', [{ by: 'name', name: 'Valid/_+=.@-Name-a1b2c3-' }, { by: 'arn', arn: P + 'Valid/_+=.@-Name-a1b2c3' }]],
    [P + 'Valid/_+=.@-Name-a1b2c3--', [{ by: 'name', name: 'Valid/_+=.@-Name-a1b2c3--' }, { by: 'name', name: 'Valid/_+=.@-Name-a1b2c3-' }]],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbC123', []],
    ['arn:aws:secretsmanager:us-east-1:999999999999:secret:prod/db', []],
    [P, []],
  ];
  for (const [id, want] of cases) assert.deepEqual(secretRefs(id, P), want, id);
  assert.throws(() => secretRefs('Inv Name', P), (e: unknown) => e instanceof ServiceError && e.code === 'ValidationException');
});
