import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPolicy, parsePolicy, PolicySyntaxError } from './parse.js';

const allow = { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' };

test('parsePolicy normalises a minimal document', () => {
  const policy = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: allow }), { name: 'read' });
  assert.equal(policy.version, '2012-10-17');
  assert.equal(policy.name, 'read');
  assert.deepEqual(policy.statements, [
    { index: 0, sid: undefined, effect: 'Allow', action: ['secretsmanager:GetSecretValue'], resource: ['*'], conditions: [] },
  ]);
});

test('parsePolicy defaults Version to 2008-10-17 and keeps Id', () => {
  const policy = parsePolicy({ Id: 'doc-1', Statement: [allow] });
  assert.equal(policy.version, '2008-10-17');
  assert.equal(policy.id, 'doc-1');
});

test('parsePolicy normalises NotAction, NotResource, principals and conditions', () => {
  const policy = parsePolicy(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'One',
          Effect: 'Deny',
          NotPrincipal: { AWS: ['arn:aws:iam::123456789012:root', '123456789012'], Service: 'lambda.amazonaws.com' },
          NotAction: ['secretsmanager:Describe*'],
          NotResource: 'arn:aws:secretsmanager:*:*:secret:public/*',
          Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 }, 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': ['a*', 'b'] } },
        },
        { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': true } } },
      ],
    },
    { kind: 'resource' },
  );
  const [one, two] = policy.statements;
  assert.equal(one.sid, 'One');
  assert.deepEqual(one.notAction, ['secretsmanager:Describe*']);
  assert.deepEqual(one.notResource, ['arn:aws:secretsmanager:*:*:secret:public/*']);
  assert.deepEqual(one.notPrincipal, {
    wildcard: false,
    aws: ['arn:aws:iam::123456789012:root', '123456789012'],
    service: ['lambda.amazonaws.com'],
    federated: [],
    canonicalUser: [],
  });
  assert.deepEqual(one.conditions, [
    { operator: 'NumericLessThan', base: 'NumericLessThan', set: undefined, ifExists: false, key: 'aws:MultiFactorAuthAge', values: ['3600'] },
    { operator: 'ForAnyValue:StringLikeIfExists', base: 'StringLike', set: 'ForAnyValue', ifExists: true, key: 'aws:TagKeys', values: ['a*', 'b'] },
  ]);
  assert.equal(two.principal?.wildcard, true);
  assert.deepEqual(two.conditions[0].values, ['true']);
});

test('malformed documents name the statement and the element', () => {
  const v = (...statements: unknown[]) => ({ Version: '2012-10-17', Statement: statements });
  const cases: [unknown, 'identity' | 'resource' | undefined, string][] = [
    ['', undefined, 'The policy document is empty'],
    ['{"Version": ', undefined, 'The policy document is not valid JSON'],
    ['[]', undefined, 'The policy document must be a JSON object, not []'],
    [{ Version: '2019-10-19', Statement: [allow] }, undefined, 'Version must be "2012-10-17" or "2008-10-17", not "2019-10-19"'],
    [{ Version: '2012-10-17' }, undefined, 'The policy has no Statement'],
    [{ Version: '2012-10-17', Statement: [] }, undefined, 'The policy has no Statement'],
    [{ version: '2012-10-17', Statement: [allow] }, undefined, 'The policy: unknown element "version" (did you mean "Version"?)'],
    [v('not a statement'), undefined, 'Statement 1 must be an object, not "not a statement"'],
    [v({ ...allow, Effect: 'allow' }), undefined, 'Statement 1: Effect must be "Allow" or "Deny", not "allow"'],
    [v({ Action: '*', Resource: '*' }), undefined, 'Statement 1: Effect must be "Allow" or "Deny", and is missing'],
    [v(allow, { Sid: 'X', Effect: 'Allow', Resource: '*' }), undefined, 'Statement 2 (Sid "X") has neither Action nor NotAction'],
    [v({ ...allow, NotAction: 'kms:*' }), undefined, 'Statement 1 has both Action and NotAction; use one'],
    [v({ Effect: 'Allow', Action: '*' }), undefined, 'Statement 1 has neither Resource nor NotResource'],
    [v({ ...allow, Action: 'GetSecretValue' }), undefined, 'Statement 1 Action: "GetSecretValue" must be "*" or service:action'],
    [v({ ...allow, Action: [] }), undefined, 'Statement 1 Action must be a string or a non-empty list of strings, not []'],
    [v({ ...allow, Resource: 'arn:aws:s3' }), undefined, 'Statement 1 Resource: "arn:aws:s3" must be "*" or an ARN'],
    [v({ ...allow, Resource: 42 }), undefined, 'Statement 1 Resource must be a string or a non-empty list of strings, not 42'],
    [v({ ...allow, Principal: '*' }), 'identity', "Statement 1: an identity-based policy can't have Principal"],
    [v(allow), 'resource', 'Statement 1 has neither Principal nor NotPrincipal'],
    [v({ ...allow, Principal: { AWS: 'alice' } }), 'resource', 'Statement 1 Principal AWS: "alice" must be "*", a 12-digit account id or an IAM/STS ARN'],
    [v({ ...allow, Principal: { AWS: 'arn:aws:iam::123456789012:user/*' } }), 'resource', "Statement 1 Principal AWS: \"arn:aws:iam::123456789012:user/*\" can't contain wildcards"],
    [v({ ...allow, Principal: { Aws: '*' } }), 'resource', 'Statement 1 Principal: unknown element "Aws" (did you mean "AWS"?)'],
    [v({ ...allow, Principal: 'everyone' }), 'resource', 'Statement 1 Principal must be "*" or an object'],
    [v({ ...allow, Condition: { StringEqual: { 'aws:username': 'a' } } }), undefined, 'Statement 1 Condition: unknown condition operator "StringEqual"'],
    [v({ ...allow, Condition: { 'ForSomeValues:StringEquals': { 'aws:TagKeys': 'a' } } }), undefined, 'unknown set operator "ForSomeValues"'],
    [v({ ...allow, Condition: { NullIfExists: { 'aws:TagKeys': 'true' } } }), undefined, 'Null cannot be combined with IfExists'],
    [v({ ...allow, Condition: { StringEquals: { username: 'a' } } }), undefined, 'Statement 1 Condition StringEquals "username": a condition key needs a service prefix'],
    [v({ ...allow, Condition: { StringEquals: { 'aws:username': [] } } }), undefined, 'must be a string, number or boolean, or a non-empty list of them, not []'],
    [v({ ...allow, Condition: { StringEquals: { 'aws:username': { a: 1 } } } }), undefined, 'must be a string, number or boolean'],
    [v({ ...allow, Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': 'soon' } } }), undefined, '"soon" is not a number'],
    [v({ ...allow, Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': '${aws:x}' } } }), undefined, "policy variables can't be used with NumericLessThan"],
    [v({ ...allow, Condition: { DateLessThan: { 'aws:CurrentTime': '2024-13-01' } } }), undefined, '"2024-13-01" is not an ISO 8601 date or epoch seconds'],
    [v({ ...allow, Condition: { Bool: { 'aws:SecureTransport': 'yes' } } }), undefined, '"yes" is not true or false'],
    [v({ ...allow, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }), undefined, '"10.0.0.0/33" is not an IP address or CIDR range'],
    [v({ ...allow, Condition: { ArnLike: { 'aws:SourceArn': 'lambda:fn' } } }), undefined, '"lambda:fn" is not an ARN'],
    [v({ ...allow, Condition: { BinaryEquals: { 'aws:k': '***' } } }), undefined, '"***" is not base64'],
    [v({ ...allow, Condition: { Null: { 'aws:TagKeys': 'maybe' } } }), undefined, '"maybe" is not true or false'],
    [v({ ...allow, Condition: 'always' }), undefined, 'Statement 1 Condition must be an object of operators'],
    [v({ ...allow, Sid: 'S' }, { ...allow, Sid: 'S' }), undefined, 'Statements 1 and 2 share the Sid "S"; Sids must be unique'],
    [v({ ...allow, Sid: 7 }), undefined, 'Statement 1: Sid must be a string, not 7'],
    [v({ ...allow, Effects: 'Allow' }), undefined, 'Statement 1: unknown element "Effects"'],
  ];
  for (const [doc, kind, expected] of cases) {
    const { policy, problems } = checkPolicy(doc, { kind });
    assert.equal(policy, undefined, JSON.stringify(doc));
    assert.ok(problems.some((p) => p.includes(expected)), `${JSON.stringify(doc)}\n  expected: ${expected}\n  got: ${problems.join(' | ')}`);
  }
});

test('parsePolicy throws PolicySyntaxError listing every problem', () => {
  const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: 'x', Resource: '*' }] };
  assert.throws(
    () => parsePolicy(doc),
    (e: unknown) =>
      e instanceof PolicySyntaxError &&
      e.problems.length === 2 &&
      e.message.startsWith('2 problems: Statement 1: Effect must be "Allow" or "Deny", not "Maybe"'),
  );
  assert.throws(() => parsePolicy('nope'), /The policy document is not valid JSON/);
});

test('policy variables are checked only where the language has them', () => {
  const numeric = { ...allow, Condition: { NumericEquals: { 'aws:x': '${aws:y}' } } };
  // In 2008-10-17 the variable is literal text, which is then simply not a number.
  assert.match(checkPolicy({ Statement: numeric }).problems.join(), /is not a number/);
  const bool = { ...allow, Condition: { Bool: { 'aws:SecureTransport': '${aws:z}' } } };
  assert.ok(checkPolicy({ Version: '2012-10-17', Statement: bool }).policy !== undefined);
});

test('the seed documents parse verbatim as identity and resource policies', () => {
  const identity = parsePolicy(
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*' },
        { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: 'arn:aws:kms:us-east-1:123456789012:key/...' },
      ],
    },
    { kind: 'identity' },
  );
  assert.equal(identity.statements.length, 2);
  const resource = parsePolicy(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::123456789012:role/rotation-lambda-role' },
          Action: ['secretsmanager:GetSecretValue'],
          Resource: '*',
          Condition: { StringEquals: { 'secretsmanager:VersionStage': ['AWSCURRENT', 'AWSPENDING'] } },
        },
      ],
    },
    { kind: 'resource' },
  );
  assert.deepEqual(resource.statements[0].principal?.aws, ['arn:aws:iam::123456789012:role/rotation-lambda-role']);
});
