import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accountOf,
  actionMatches,
  arnMatch,
  notPrincipalExempts,
  principalChain,
  principalMatch,
  resourceMatch,
  roleArnOfSession,
} from './match.js';
import { compilePattern, expandLiteral, matchPattern, splitColons, wildcardMatch } from './pattern.js';
import type { PrincipalSet, RequestPrincipal } from './types.js';

const vars = (values: Record<string, string>) => (name: string) => values[name.toLowerCase()];

test('actionMatches: case-insensitive with * and ?', () => {
  const cases: [string, string, boolean][] = [
    ['secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue', true],
    ['SECRETSMANAGER:getsecretvalue', 'secretsmanager:GetSecretValue', true],
    ['secretsmanager:*', 'secretsmanager:GetSecretValue', true],
    ['*', 'kms:Decrypt', true],
    ['secretsmanager:Get*', 'secretsmanager:GetRandomPassword', true],
    ['secretsmanager:*Secret', 'secretsmanager:DescribeSecret', true],
    ['secretsmanager:*Secret', 'secretsmanager:GetSecretValue', false],
    ['secretsmanager:?etSecretValue', 'secretsmanager:GetSecretValue', true],
    ['secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValues', false],
    ['secretsmanager:Get', 'secretsmanager:GetSecretValue', false],
    ['kms:*', 'secretsmanager:GetSecretValue', false],
  ];
  for (const [pattern, action, expected] of cases) assert.equal(actionMatches(pattern, action), expected, `${pattern} ${action}`);
});

test('arnMatch: wildcards stay within a part except in the resource part', () => {
  const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf';
  const cases: [string, string, boolean][] = [
    ['*', secret, true],
    [secret, secret, true],
    ['arn:aws:secretsmanager:*:*:*', secret, true],
    ['arn:aws:secretsmanager:us-east-1:123456789012:*', secret, true],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:*', secret, true],
    ['arn:aws:secretsmanager:us-*:secret:*', secret, false],
    ['arn:aws:secretsmanager:*1:123456789012:secret:prod/db-??????', secret, true],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-?????', secret, false],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:PROD/*', secret, false],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*', '*', false],
    ['arn:aws:someservice:*:111122223333:finance/*', 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/x', false],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a:b/c', true],
    ['arn:aws:s3:::bucket', 'arn:aws:s3:::bucket/key', false],
  ];
  for (const [pattern, value, expected] of cases) assert.equal(arnMatch(pattern, value), expected, `${pattern} ${value}`);
});

test('resourceMatch expands variables only in the resource part; unresolved is null', () => {
  const v = vars({ 'aws:username': 'alice', 'aws:principalaccount': '123456789012' });
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:home/alice/x';
  assert.equal(resourceMatch('arn:aws:secretsmanager:us-east-1:123456789012:secret:home/${aws:username}/*', arn, v), true);
  assert.equal(resourceMatch('arn:aws:secretsmanager:us-east-1:${aws:PrincipalAccount}:secret:home/*', arn, v), false);
  assert.equal(arnMatch('arn:aws:secretsmanager:us-east-1:${aws:PrincipalAccount}:secret:home/*', arn, v), true);
  assert.equal(resourceMatch('arn:aws:secretsmanager:us-east-1:123456789012:secret:home/${aws:userid}/*', arn, v), null);
  assert.equal(resourceMatch("arn:aws:secretsmanager:us-east-1:123456789012:secret:home/${aws:userid, 'alice'}/*", arn, v), true);
});

test('pattern: variables are literal text, special variables stand for characters', () => {
  const v = vars({ 'aws:username': 'a*b' });
  assert.equal(wildcardMatch('home/${aws:username}/*', 'home/a*b/x', v), true);
  assert.equal(wildcardMatch('home/${aws:username}/*', 'home/axxb/x', v), false);
  assert.equal(wildcardMatch('${*}${?}${$}', '*?$', v), true);
  assert.equal(wildcardMatch('${*}', 'anything', v), false);
  assert.equal(wildcardMatch('${aws:username}', '${aws:username}'), true, 'no resolver: literal');
  assert.equal(expandLiteral('x-${aws:nope}', v), null);
  assert.equal(expandLiteral("x-${aws:nope, 'd'}", v), 'x-d');
  assert.equal(expandLiteral('x-${unclosed', v), 'x-${unclosed');
  assert.equal(expandLiteral('${toString}', v), null, 'no prototype lookups');
  const p = compilePattern('A*', undefined, true);
  assert.ok(p !== null && matchPattern(p, 'abc'));
  assert.deepEqual(splitColons('arn:aws:s3:::${aws:x:y}/a:b', 6), ['arn', 'aws', 's3', '', '', '${aws:x:y}/a:b']);
});

test('matchPattern handles backtracking without blowing up', () => {
  const pattern = compilePattern('*a*a*a*a*a*a*a*a*b', undefined);
  assert.ok(pattern !== null);
  assert.equal(matchPattern(pattern, 'a'.repeat(5000)), false);
  assert.equal(matchPattern(pattern, `${'a'.repeat(5000)}b`), true);
});

const set = (aws: string[], extra: Partial<PrincipalSet> = {}): PrincipalSet => ({
  wildcard: false,
  aws,
  service: [],
  federated: [],
  canonicalUser: [],
  ...extra,
});
const alice: RequestPrincipal = { arn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012', type: 'user' };
const session: RequestPrincipal = {
  arn: 'arn:aws:sts::123456789012:assumed-role/app/i-1',
  accountId: '123456789012',
  type: 'assumed-role',
};
const root: RequestPrincipal = { arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012', type: 'root' };
const lambda: RequestPrincipal = { arn: 'lambda.amazonaws.com', accountId: '', type: 'service' };

test('principalMatch: exact, role sessions, account delegation, wildcard, services', () => {
  assert.equal(principalMatch(set([alice.arn]), alice), 'exact');
  assert.equal(principalMatch(set(['arn:aws:iam::123456789012:user/Alice']), alice), undefined, 'user names are case-sensitive');
  assert.equal(principalMatch(set(['123456789012']), alice), 'account');
  assert.equal(principalMatch(set(['arn:aws:iam::123456789012:root']), session), 'account');
  assert.equal(principalMatch(set(['arn:aws:iam::123456789012:root']), root), 'exact');
  assert.equal(principalMatch(set(['210987654321']), alice), undefined);
  assert.equal(principalMatch(set(['arn:aws:iam::123456789012:role/app']), session), 'role');
  assert.equal(principalMatch(set(['arn:aws:iam::123456789012:role/team/app']), session), 'role');
  assert.equal(principalMatch(set(['arn:aws:iam::210987654321:role/app']), session), undefined);
  assert.equal(principalMatch(set([session.arn]), session), 'exact');
  assert.equal(principalMatch(set(['*']), alice), 'wildcard');
  assert.equal(principalMatch(set([], { wildcard: true }), lambda), 'wildcard');
  assert.equal(principalMatch(set([], { service: ['lambda.amazonaws.com'] }), lambda), 'service');
  assert.equal(principalMatch(set(['123456789012']), lambda), undefined);
});

test('principal helpers', () => {
  assert.equal(accountOf('123456789012'), '123456789012');
  assert.equal(accountOf('arn:aws-us-gov:iam::123456789012:root'), '123456789012');
  assert.equal(accountOf('arn:aws:iam::123456789012:user/root'), undefined);
  assert.equal(roleArnOfSession(session.arn), 'arn:aws:iam::123456789012:role/app');
  assert.equal(roleArnOfSession(alice.arn), undefined);
  assert.deepEqual(
    principalChain(session).map((p) => p.arn),
    ['arn:aws:iam::123456789012:root', 'arn:aws:iam::123456789012:role/app', session.arn],
  );
  assert.deepEqual(principalChain(root).map((p) => p.arn), [root.arn]);
});

test('notPrincipalExempts needs every identity of the chain, matched exactly', () => {
  const acct = 'arn:aws:iam::123456789012:root';
  assert.equal(notPrincipalExempts(set([alice.arn, acct]), alice), true);
  assert.equal(notPrincipalExempts(set([alice.arn]), alice), false);
  assert.equal(notPrincipalExempts(set([acct]), alice), false, 'the account does not exempt its users');
  assert.equal(notPrincipalExempts(set([acct]), root), true);
  assert.equal(notPrincipalExempts(set([session.arn, 'arn:aws:iam::123456789012:role/app', acct]), session), true);
  assert.equal(notPrincipalExempts(set(['arn:aws:iam::123456789012:role/app', acct]), session), false);
  assert.equal(notPrincipalExempts(set(['*']), session), true);
  assert.equal(notPrincipalExempts(set([], { service: ['lambda.amazonaws.com'] }), lambda), true);
});
