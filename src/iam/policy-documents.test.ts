import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../errors.js';
import { awsPrincipals, encodePolicyDocument, identityPolicy, policySize, trustPolicy } from './policy-documents.js';

function malformed(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ServiceError);
    assert.equal(e.code, 'MalformedPolicyDocument');
    assert.equal(e.status, 400);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

const ALLOW = { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' };

test('identity policies: valid ones parse; IAM\'s faults in its words', () => {
  const p = identityPolicy(JSON.stringify({ Version: '2012-10-17', Statement: [ALLOW] }), 'read');
  assert.equal(p.name, 'read');
  assert.equal(p.statements.length, 1);
  identityPolicy(JSON.stringify({ Statement: ALLOW })); // one statement, no Version: accepted as IAM does
  malformed(() => identityPolicy('{"Version": '), 'Syntax errors in policy.');
  malformed(() => identityPolicy('[]'), 'Syntax errors in policy.');
  malformed(() => identityPolicy(JSON.stringify({ Version: '2020-01-01', Statement: [ALLOW] })), 'The policy must contain a valid version string');
  malformed(() => identityPolicy(JSON.stringify({ Version: '2012-10-17' })), 'Missing required field Statement');
  malformed(() => identityPolicy(JSON.stringify({ Statement: [{ ...ALLOW, Principal: '*' }] })), 'Policy document should not specify a principal.');
  malformed(() => identityPolicy(JSON.stringify({ Statement: [{ Action: 'a:b', Resource: '*' }] })), 'Missing required field Effect');
  malformed(() => identityPolicy(JSON.stringify({ Statement: [{ Effect: 'Allow', Resource: '*' }] })), 'Policy statement must contain actions.');
  malformed(() => identityPolicy(JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'a:b' }] })), 'Policy statement must contain resources.');
  // anything else: the parser's message, naming the statement
  malformed(() => identityPolicy(JSON.stringify({ Statement: [{ ...ALLOW, Effect: 'Permit' }] })), /Statement 1.*Effect/);
  malformed(() => identityPolicy(JSON.stringify({ Statement: [{ ...ALLOW, Action: 'GetSecretValue' }] })), /GetSecretValue/);
});

test('trust policies: a Principal in every statement, no Resource; read as covering any resource', () => {
  const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::123456789012:user/a', '123456789012'] }, Action: 'sts:AssumeRole' }] };
  const p = trustPolicy(JSON.stringify(doc));
  assert.deepEqual(p.statements[0].resource, ['*']);
  assert.deepEqual(awsPrincipals(p), ['arn:aws:iam::123456789012:user/a', '123456789012']);
  malformed(() => trustPolicy(JSON.stringify({ Statement: [{ ...doc.Statement[0], Resource: '*' }] })), 'Has prohibited field Resource');
  malformed(() => trustPolicy(JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] })), 'Missing required field Principal');
  malformed(() => trustPolicy(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'alice' }, Action: 'sts:AssumeRole' }] })), /alice/);
});

test('size as IAM counts it, and the document as IAM sends it', () => {
  assert.equal(policySize('{ "a" :\n\t"b c" }'), '{"a":"bc"}'.length);
  const text = '{"Version": "2012-10-17", "Statement": []}';
  assert.equal(decodeURIComponent(encodePolicyDocument(text)), text);
  assert.match(encodePolicyDocument(text), /^%7B%22Version%22%3A%20%222012-10-17%22/);
});
