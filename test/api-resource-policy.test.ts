import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateSecretCommand, DeleteResourcePolicyCommand, DeleteSecretCommand, GetResourcePolicyCommand, PutResourcePolicyCommand,
  ValidateResourcePolicyCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';

// PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy and ValidateResourcePolicy.

let srv: TestServer;
let sm: SecretsManagerClient;
before(async () => {
  srv = await startServer();
  sm = srv.client();
});
after(() => srv?.stop());

const ROLE = 'arn:aws:iam::123456789012:role/rotation-lambda-role';
const seedPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow', Principal: { AWS: ROLE },
    Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
    Resource: '*', Condition: { StringEquals: { 'secretsmanager:VersionStage': ['AWSCURRENT', 'AWSPENDING'] } },
  }],
});
const publicPolicy = JSON.stringify({
  Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
});

test('put, get and delete a resource policy', async () => {
  const c = await sm.send(new CreateSecretCommand({ Name: 'rp/one', SecretString: 'x' }));
  assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'rp/one' }))).ResourcePolicy, undefined);
  const put = await sm.send(new PutResourcePolicyCommand({ SecretId: 'rp/one', ResourcePolicy: seedPolicy, BlockPublicPolicy: true }));
  assert.deepEqual([put.ARN, put.Name], [c.ARN, 'rp/one']);
  const got = await sm.send(new GetResourcePolicyCommand({ SecretId: c.ARN! }));
  assert.equal(got.ResourcePolicy, seedPolicy);
  assert.equal(got.Name, 'rp/one');
  const del = await sm.send(new DeleteResourcePolicyCommand({ SecretId: 'rp/one' }));
  assert.equal(del.ARN, c.ARN);
  assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'rp/one' }))).ResourcePolicy, undefined);
});

test('BlockPublicPolicy refuses a public policy and changes nothing; without it the policy is stored', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'rp/public', SecretString: 'x' }));
  await assert.rejects(
    sm.send(new PutResourcePolicyCommand({ SecretId: 'rp/public', ResourcePolicy: publicPolicy, BlockPublicPolicy: true })),
    (e: Error) => e.name === 'PublicPolicyException' && /did not prevent broad access to the secret/.test(e.message),
  );
  assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'rp/public' }))).ResourcePolicy, undefined);
  await sm.send(new PutResourcePolicyCommand({ SecretId: 'rp/public', ResourcePolicy: publicPolicy }));
  assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'rp/public' }))).ResourcePolicy, publicPolicy);
});

test('malformed policies are refused with the reason; unknown and deleted secrets too', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'rp/bad', SecretString: 'x' }));
  for (const [doc, why] of [
    ['{not json', /not valid JSON/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'allow', Principal: '*', Action: '*', Resource: '*' }] }), /Effect/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Resource: '*' }] }), /Action/],
  ] as const) {
    await assert.rejects(
      sm.send(new PutResourcePolicyCommand({ SecretId: 'rp/bad', ResourcePolicy: doc })),
      (e: Error) => e.name === 'MalformedPolicyDocumentException' && why.test(e.message),
    );
  }
  assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'rp/bad' }))).ResourcePolicy, undefined);
  await assert.rejects(sm.send(new PutResourcePolicyCommand({ SecretId: 'rp/none', ResourcePolicy: seedPolicy })), { name: 'ResourceNotFoundException' });
  await sm.send(new DeleteSecretCommand({ SecretId: 'rp/bad' }));
  await assert.rejects(sm.send(new PutResourcePolicyCommand({ SecretId: 'rp/bad', ResourcePolicy: seedPolicy })), { name: 'InvalidRequestException' });
});

test('ValidateResourcePolicy: the seed policy passes; a public one and a malformed one fail with findings', async () => {
  const ok = await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: seedPolicy }));
  assert.equal(ok.PolicyValidationPassed, true);
  const pub = await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: publicPolicy }));
  assert.equal(pub.PolicyValidationPassed, false);
  assert.ok(pub.ValidationErrors?.some((e) => e.CheckName === 'PUBLIC_ACCESS'));
  const bad = await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: JSON.stringify({ Statement: [{ Effect: 'Allow' }] }) }));
  assert.equal(bad.PolicyValidationPassed, false);
  assert.ok((bad.ValidationErrors ?? []).length > 0);
});
