import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findings, isPublic, SECRETS_MANAGER_ACTIONS } from './findings.js';
import { parsePolicy } from './parse.js';

const GSV = 'secretsmanager:GetSecretValue';
const doc = (statement: Record<string, unknown>) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: GSV, Resource: '*', ...statement }],
});
const publicOf = (statement: Record<string, unknown>) => isPublic(parsePolicy(doc(statement), { kind: 'resource' }));

test('isPublic: wildcard principals without a restricting condition', () => {
  const cases: [Record<string, unknown>, boolean][] = [
    [{ Principal: '*' }, true],
    [{ Principal: { AWS: '*' } }, true],
    [{ Principal: { AWS: ['arn:aws:iam::123456789012:root', '*'] } }, true],
    [{ Principal: { Federated: 'graph.facebook.com' } }, true],
    [{ NotPrincipal: { AWS: 'arn:aws:iam::123456789012:user/bob' } }, true],
    [{ Principal: { AWS: 'arn:aws:iam::123456789012:role/app' } }, false],
    [{ Principal: { AWS: '999999999999' } }, false],
    [{ Principal: { Service: 'lambda.amazonaws.com' } }, false],
    [{ Effect: 'Deny', Principal: '*' }, false],
    [{ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } } }, false],
    [{ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } } }, false],
    [{ Principal: '*', Condition: { StringEquals: { 'AWS:SOURCEVPCE': 'vpce-1a2b3c' } } }, false],
    [{ Principal: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/app' } } }, false],
    [{ Principal: '*', Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/*' } } }, false],
    [{ Principal: '*', Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/app' } } }, true],
    [{ Principal: '*', Condition: { StringLike: { 'aws:PrincipalOrgID': 'o-*' } } }, true],
    [{ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '${aws:username}' } } }, true],
    [{ Principal: '*', Condition: { StringEqualsIfExists: { 'aws:PrincipalAccount': '123456789012' } } }, true],
    [{ Principal: '*', Condition: { StringNotEquals: { 'aws:PrincipalAccount': '123456789012' } } }, true],
    [{ Principal: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgPaths': 'o-a/r-b/ou-c/' } } }, true],
    [{ Principal: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:PrincipalOrgPaths': 'o-a/r-b/ou-c/' } } }, false],
    [{ Principal: '*', Condition: { StringEquals: { 'aws:username': 'alice' } } }, true],
    [{ Principal: '*', Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } } }, true],
    [{ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }, false],
    [{ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/1' } } }, true],
    [{ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '0.0.0.0/0'] } } }, true],
    [{ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } } }, false],
    [{ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/16' } } }, true],
  ];
  for (const [statement, expected] of cases) assert.equal(publicOf(statement), expected, JSON.stringify(statement));
});

test('the recorded AWS resource policy (Principal * on GetSecretValue) is public', () => {
  assert.equal(publicOf({ Principal: '*' }), true);
  const [finding] = findings(doc({ Principal: '*' }));
  assert.equal(finding.checkName, 'PUBLIC_ACCESS');
  assert.equal(finding.severity, 'error');
  assert.equal(finding.statement, 0);
});

test('findings: a clean policy has none', () => {
  assert.deepEqual(findings(doc({ Principal: { AWS: 'arn:aws:iam::123456789012:role/app' } })), []);
});

test('findings: syntax errors come back as SYNTAX findings', () => {
  const result = findings('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}');
  assert.ok(result.length >= 2);
  assert.ok(result.every((f) => f.checkName === 'SYNTAX' && f.severity === 'error'));
  assert.ok(result.some((f) => f.message === 'Statement 1 has neither Action nor NotAction'));
});

test('findings: statement checks', () => {
  const role = { AWS: 'arn:aws:iam::123456789012:role/app' };
  const names = (statement: Record<string, unknown>, resourceArn?: string) =>
    findings(doc(statement), resourceArn === undefined ? {} : { resourceArn }).map((f) => f.checkName);
  assert.deepEqual(names({}), ['MISSING_PRINCIPAL']);
  assert.deepEqual(names({ Principal: role, Action: 'secretsmanager:GetSecretValu' }), ['UNKNOWN_ACTION']);
  assert.deepEqual(names({ Principal: role, Action: ['s3:GetObject', 'secretsmanager:Get*'] }), ['UNSUPPORTED_ACTION']);
  assert.deepEqual(names({ NotPrincipal: role }), ['PUBLIC_ACCESS', 'NOT_PRINCIPAL_WITH_ALLOW']);
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf';
  assert.deepEqual(names({ Principal: role, Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/*' }, arn), ['RESOURCE_MISMATCH']);
  assert.deepEqual(names({ Principal: role, Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*' }, arn), []);
  assert.deepEqual(names({ Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*' }), ['LOCKOUT']);
  const notAction = { Version: '2012-10-17', Statement: { Effect: 'Deny', Principal: '*', NotAction: GSV, Resource: '*' } };
  assert.deepEqual(findings(notAction).map((f) => f.checkName), ['LOCKOUT']);
  assert.deepEqual(names({ Effect: 'Deny', Principal: '*', Action: GSV }), []);
  assert.deepEqual(
    names({ Effect: 'Deny', Principal: '*', Action: '*', Condition: { StringNotEquals: { 'aws:PrincipalAccount': '123456789012' } } }),
    [],
  );
  const message = findings(doc({ Sid: 'Read', Principal: role, Action: 'secretsmanager:Nope' }))[0].message;
  assert.equal(message, 'Statement 1 (Sid "Read"): "secretsmanager:Nope" matches no Secrets Manager action');
});

test('SECRETS_MANAGER_ACTIONS comes from the API model', () => {
  assert.ok(SECRETS_MANAGER_ACTIONS.includes('secretsmanager:GetSecretValue'));
  assert.ok(SECRETS_MANAGER_ACTIONS.includes('secretsmanager:BatchGetSecretValue'));
  assert.equal(SECRETS_MANAGER_ACTIONS.length, 23);
});
