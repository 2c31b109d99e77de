import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionRecord } from '../../storage/types.js';
import { addStatement, allowsInvoke, principalOf, removeStatement, type PolicyStatement } from './policy.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate';
const SM = 'secretsmanager.amazonaws.com';
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';

function fnWith(statements: Partial<PolicyStatement>[] | null): FunctionRecord {
  const policy = statements === null ? null : JSON.stringify({
    Version: '2012-10-17', Id: 'default',
    Statement: statements.map((s, i) => ({ Sid: `s${i}`, Effect: 'Allow', Resource: ARN, Action: 'lambda:InvokeFunction', Principal: { Service: SM }, ...s })),
  });
  return {
    name: 'rotate', arn: ARN, runtime: 'python3.12', handler: 'a.b', role: 'r', description: '', timeoutS: 3, memoryMb: 128,
    sealedEnvironment: null, code: Buffer.alloc(0), codeSha256: '', codeSize: 0, policy, createdMs: 0, lastModifiedMs: 0, revisionId: 'r',
  };
}

const cases: [string, Partial<PolicyStatement>[] | null, [string?, string?], boolean][] = [
  ['no policy', null, [], false],
  ['service statement', [{}], [], true],
  ['service statement, with context', [{}], [SECRET, '123456789012'], true],
  ['another service', [{ Principal: { Service: 's3.amazonaws.com' } }], [], false],
  ['service list', [{ Principal: { Service: ['s3.amazonaws.com', SM] } }], [], true],
  ['wildcard principal', [{ Principal: '*' }], [], true],
  ['AWS * principal', [{ Principal: { AWS: '*' } }], [], true],
  ['account principal only', [{ Principal: { AWS: 'arn:aws:iam::123456789012:root' } }], [], false],
  ['lambda:*', [{ Action: 'lambda:*' }], [], true],
  ['*', [{ Action: '*' }], [], true],
  ['action list', [{ Action: ['lambda:GetFunction', 'lambda:InvokeFunction'] }], [], true],
  ['other action', [{ Action: 'lambda:GetFunction' }], [], false],
  ['action case-insensitive', [{ Action: 'Lambda:invokefunction' }], [], true],
  ['SourceArn matches (ArnLike *)', [{ Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:*' } } }], [SECRET], true],
  ['SourceArn differs', [{ Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other-*' } } }], [SECRET], false],
  ['SourceArn condition, no SourceArn given', [{ Condition: { ArnLike: { 'AWS:SourceArn': 'arn:nothing' } } }], [], true],
  ['SourceArn exact (ArnEquals)', [{ Condition: { ArnEquals: { 'aws:sourcearn': SECRET } } }], [SECRET], true],
  ['SourceAccount matches', [{ Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' } } }], [SECRET, '123456789012'], true],
  ['SourceAccount differs', [{ Condition: { StringEquals: { 'AWS:SourceAccount': '999999999999' } } }], [SECRET, '123456789012'], false],
  ['both conditions hold', [{ Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' }, ArnLike: { 'AWS:SourceArn': SECRET } } }], [SECRET, '123456789012'], true],
  ['one of two conditions fails', [{ Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' }, ArnLike: { 'AWS:SourceArn': 'x' } } }], [SECRET, '123456789012'], false],
  ['condition value list', [{ Condition: { StringEquals: { 'AWS:SourceAccount': ['1', '123456789012'] } } }], [SECRET, '123456789012'], true],
  ['unknown condition key', [{ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1234567890' } } }], [SECRET, '123456789012'], false],
  ['unknown operator', [{ Condition: { NumericLessThan: { 'AWS:SourceAccount': '5' } } }], [SECRET, '123456789012'], false],
  ['deny wins', [{}, { Effect: 'Deny' }], [], false],
  ['deny for another secret does not apply', [{}, { Effect: 'Deny', Condition: { ArnLike: { 'AWS:SourceArn': '*:other' } } }], [SECRET], true],
  ['deny conditioned on a value not given does not apply', [{}, { Effect: 'Deny', Condition: { ArnLike: { 'AWS:SourceArn': '*' } } }], [], true],
  ['second statement allows', [{ Principal: { Service: 'events.amazonaws.com' } }, {}], [], true],
];

for (const [name, statements, [arn, account], expected] of cases) {
  test(`allowsInvoke: ${name}`, () => {
    assert.equal(allowsInvoke(fnWith(statements), SM, arn, account), expected);
  });
}

test('principals as Lambda writes them', () => {
  assert.equal(principalOf('*'), '*');
  assert.deepEqual(principalOf('123456789012'), { AWS: 'arn:aws:iam::123456789012:root' });
  assert.deepEqual(principalOf('arn:aws:iam::123456789012:role/x'), { AWS: 'arn:aws:iam::123456789012:role/x' });
  assert.deepEqual(principalOf(SM), { Service: SM });
  assert.throws(() => principalOf('nobody'), /The provided principal was invalid/);
});

test('addStatement builds the policy; removeStatement takes it apart', () => {
  const fn = fnWith(null);
  const a = addStatement(fn, { StatementId: 'one', Action: 'lambda:InvokeFunction', Principal: SM, SourceArn: SECRET });
  assert.deepEqual(a.statement.Condition, { ArnLike: { 'AWS:SourceArn': SECRET } });
  const withOne = { ...fn, policy: a.policy };
  assert.equal(allowsInvoke(withOne, SM, SECRET), true);
  assert.equal(allowsInvoke(withOne, SM, SECRET.replace('db', 'other')), false);
  assert.throws(() => addStatement(withOne, { StatementId: 'one', Action: 'lambda:*', Principal: '*' }), /already exists/);
  assert.throws(() => addStatement(withOne, { StatementId: 'bad id!', Action: 'lambda:*', Principal: '*' }), /statementId/);
  const b = addStatement(withOne, { StatementId: 'two', Action: 'lambda:*', Principal: '*' });
  const withTwo = { ...fn, policy: b.policy };
  assert.equal(JSON.parse(removeStatement(withTwo, 'one')!).Statement[0].Sid, 'two');
  assert.equal(removeStatement(withOne, 'one'), null);
  assert.throws(() => removeStatement(withOne, 'zzz'), /Statement zzz is not found in resource policy\./);
  assert.throws(() => removeStatement(fn, 'one'), /No policy is associated/);
  const big = { ...fn, policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: [{ Sid: 'x', Effect: 'Allow', Principal: '*', Action: '*', Resource: 'x'.repeat(20_500) }] }) };
  assert.throws(() => addStatement(big, { StatementId: 'y', Action: 'lambda:*', Principal: '*' }), /The final policy size \(\d+\) is bigger than the limit \(20480\)\./);
});
