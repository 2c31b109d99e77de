import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newUniqueId, parseRoleArn, pathMatches, principalArn } from './names.js';

test('ARNs of users and roles carry the path', () => {
  assert.equal(principalArn('123456789012', 'user', '/', 'alice'), 'arn:aws:iam::123456789012:user/alice');
  assert.equal(principalArn('123456789012', 'role', '/apps/web/', 'app'), 'arn:aws:iam::123456789012:role/apps/web/app');
});

test('unique ids: AIDA / AROA and 17 characters of the id alphabet', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const u = newUniqueId('user');
    assert.match(u, /^AIDA[A-Z2-7]{17}$/);
    seen.add(u);
  }
  assert.equal(seen.size, 100);
  assert.match(newUniqueId('role'), /^AROA[A-Z2-7]{17}$/);
});

test('role ARNs parse with and without a path; anything else does not', () => {
  assert.deepEqual(parseRoleArn('arn:aws:iam::123456789012:role/app'), { accountId: '123456789012', path: '/', name: 'app' });
  assert.deepEqual(parseRoleArn('arn:aws:iam::123456789012:role/a/b/app'), { accountId: '123456789012', path: '/a/b/', name: 'app' });
  for (const bad of ['arn:aws:iam::123456789012:user/app', 'arn:aws:iam::12345:role/app', 'arn:aws:iam::123456789012:role/', 'app', 'arn:aws:sts::123456789012:role/app']) {
    assert.equal(parseRoleArn(bad), undefined, bad);
  }
});

test('path prefixes', () => {
  assert.ok(pathMatches('/a/b/', '/a/'));
  assert.ok(pathMatches('/a/b/', undefined));
  assert.ok(!pathMatches('/a/', '/a/b/'));
});
