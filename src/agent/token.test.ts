import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SSRF_ENV_VARIABLES, DEFAULT_SSRF_HEADERS, TokenError, describeSource, resolveToken, tokenChecker } from './token.js';

const names = DEFAULT_SSRF_ENV_VARIABLES;
const noFile = (p: string): string => {
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
};

test("AWS's defaults: variables and headers, in order", () => {
  assert.deepEqual([...DEFAULT_SSRF_ENV_VARIABLES], ['AWS_TOKEN', 'AWS_SESSION_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN']);
  assert.deepEqual([...DEFAULT_SSRF_HEADERS], ['X-Aws-Parameters-Secrets-Token', 'X-Vault-Token']);
});

test('the first variable set wins: AWS_TOKEN, else AWS_SESSION_TOKEN, else AWS_CONTAINER_AUTHORIZATION_TOKEN', () => {
  assert.deepEqual(resolveToken(names, { AWS_TOKEN: 'a', AWS_SESSION_TOKEN: 'b' }, noFile), { token: 'a', source: { variable: 'AWS_TOKEN' } });
  assert.deepEqual(resolveToken(names, { AWS_SESSION_TOKEN: 'b', AWS_CONTAINER_AUTHORIZATION_TOKEN: 'c' }, noFile), {
    token: 'b', source: { variable: 'AWS_SESSION_TOKEN' },
  });
  assert.deepEqual(resolveToken(names, { AWS_CONTAINER_AUTHORIZATION_TOKEN: 'c' }, noFile).token, 'c');
  assert.equal(resolveToken(['MY_TOKEN'], { MY_TOKEN: 'm', AWS_TOKEN: 'a' }, noFile).token, 'm', 'a configured list replaces the defaults');
  // The value is taken as it is (no trimming outside files).
  assert.equal(resolveToken(names, { AWS_TOKEN: ' spaced ' }, noFile).token, ' spaced ');
});

test('an empty variable counts as unset', () => {
  assert.equal(resolveToken(names, { AWS_TOKEN: '', AWS_SESSION_TOKEN: 'b' }, noFile).token, 'b');
  assert.throws(() => resolveToken(names, { AWS_TOKEN: '' }, noFile), TokenError);
});

test('file://<path>: the token is the file contents, trimmed', () => {
  const files: Record<string, string> = { '/run/tok': '  s3cr3t-token\n', '/run/empty': ' \n' };
  const read = (p: string) => (p in files ? files[p] : noFile(p));
  assert.deepEqual(resolveToken(names, { AWS_TOKEN: 'file:///run/tok' }, read), { token: 's3cr3t-token', source: { variable: 'AWS_TOKEN', file: '/run/tok' } });
  assert.equal(resolveToken(names, { AWS_SESSION_TOKEN: 'file:///run/tok' }, read).token, 's3cr3t-token');
  // A file's path may be relative (file://relative/path, as AWS strips the scheme only).
  files['relative/tok'] = 'rel';
  assert.equal(resolveToken(names, { AWS_TOKEN: 'file://relative/tok' }, read).token, 'rel');
  assert.throws(() => resolveToken(names, { AWS_TOKEN: 'file:///nope' }, read), (e: Error) => {
    assert.ok(e instanceof TokenError);
    assert.match(e.message, /could not read the SSRF token file \/nope \(named by AWS_TOKEN\): ENOENT/);
    return true;
  });
  assert.throws(() => resolveToken(names, { AWS_TOKEN: 'file:///run/empty' }, read), /SSRF token file \/run\/empty \(named by AWS_TOKEN\) is empty/);
  // The first variable set is used even when it names a missing file (no fall-through, as AWS).
  assert.throws(() => resolveToken(names, { AWS_TOKEN: 'file:///nope', AWS_SESSION_TOKEN: 'b' }, read), TokenError);
});

test('no variable set: a clear error that names the variables, never a value', () => {
  assert.throws(() => resolveToken(names, { OTHER: 'x' }, noFile), (e: Error) => {
    assert.ok(e instanceof TokenError);
    assert.match(e.message, /none of AWS_TOKEN, AWS_SESSION_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN is set/);
    assert.match(e.message, /file:\/\/<path>/);
    assert.match(e.message, /X-Aws-Parameters-Secrets-Token/);
    return true;
  });
  assert.throws(() => resolveToken([], {}, noFile), /list of SSRF token variables is empty/);
});

test('describeSource names the variable and file only', () => {
  assert.equal(describeSource({ variable: 'AWS_TOKEN' }), 'AWS_TOKEN');
  assert.equal(describeSource({ variable: 'AWS_TOKEN', file: '/var/run/awssmatoken' }), 'AWS_TOKEN (file /var/run/awssmatoken)');
});

test('tokenChecker: any configured header with exactly the token; names are case-insensitive', () => {
  const check = tokenChecker('tok-123', DEFAULT_SSRF_HEADERS);
  assert.equal(check({ 'x-aws-parameters-secrets-token': 'tok-123' }), true);
  assert.equal(check({ 'x-vault-token': 'tok-123' }), true);
  assert.equal(check({ 'x-vault-token': ['tok-123'] }), true);
  assert.equal(check({}), false);
  assert.equal(check({ 'x-aws-parameters-secrets-token': 'tok-12' }), false);
  assert.equal(check({ 'x-aws-parameters-secrets-token': 'tok-1234' }), false);
  assert.equal(check({ 'x-aws-parameters-secrets-token': 'TOK-123' }), false, 'values are case-sensitive');
  assert.equal(check({ 'x-aws-parameters-secrets-token': '' }), false);
  assert.equal(check({ 'x-aws-parameters-secrets-token': 'wrong', 'x-vault-token': 'tok-123' }), true, 'one good header suffices');
  // A repeated header is judged by its first value, as AWS does.
  assert.equal(check({ 'x-aws-parameters-secrets-token': ['tok-123', 'x'] }), true);
  assert.equal(check({ 'x-aws-parameters-secrets-token': ['x', 'tok-123'] }), false);
  // Only the configured headers count.
  const custom = tokenChecker('t', ['X-My-Token']);
  assert.equal(custom({ 'x-my-token': 't' }), true);
  assert.equal(custom({ 'x-aws-parameters-secrets-token': 't' }), false);
  // Multi-byte values compare by bytes.
  assert.equal(tokenChecker('é', DEFAULT_SSRF_HEADERS)({ 'x-vault-token': 'é' }), true);
  assert.equal(tokenChecker('é', DEFAULT_SSRF_HEADERS)({ 'x-vault-token': 'e' }), false);
});
