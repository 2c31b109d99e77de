import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { strToU8, zipSync } from 'fflate';
import { AddPermissionCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, RotateSecretCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { executionRole } from './helpers/iam.js';
import { rejects } from './helpers/sdk.js';
import { CANNOT_INVOKE, resolveFunction } from '../src/rotation/registry.js';
import { processFunctionSource } from '../src/rotation/functions/source.js';
import type { LambdaEnv } from '../src/rotation/functions/env.js';

/*
 * A python rotation function registered through the Lambda API rotates a secret with boto3, the way
 * AWS's rotation templates do: through processFunctionSource directly, and through RotateSecret once
 * the server registers process functions as a rotation source.
 */

const HAVE_BOTO3 = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' }).status === 0;
test('boto3 is installed for python3 (.ci/run installs it)', () => assert.ok(HAVE_BOTO3));
const ROLE = 'arn:aws:iam::123456789012:role/rotation';

/** The shape of AWS's single-user rotation template, reduced to a password change. */
const ROTATOR = `
import json, boto3

def lambda_handler(event, context):
    sm = boto3.client("secretsmanager")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step == "createSecret":
        current = json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
        try:
            sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            return
        except sm.exceptions.ResourceNotFoundException:
            pass
        current["password"] = sm.get_random_password(PasswordLength=20, ExcludePunctuation=True)["RandomPassword"]
        sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current), VersionStages=["AWSPENDING"])
        print("createSecret: new password stored for", arn)
    elif step == "finishSecret":
        meta = sm.describe_secret(SecretId=arn)
        current = [v for v, stages in meta["VersionIdsToStages"].items() if "AWSCURRENT" in stages][0]
        if current != token:
            sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current)
`;

let srv: TestServer;
let sm: SecretsManagerClient;
let lambda: LambdaClient;
let env: LambdaEnv;

before(async () => {
  srv = await startServer({ rotation: { retryBaseMs: 50, tickMs: 60_000, maxAttempts: 2 } });
  await executionRole(srv.endpoint, srv.credentials, 'rotation');
  sm = srv.client();
  lambda = new LambdaClient({ endpoint: srv.endpoint, region: srv.region, credentials: srv.credentials, maxAttempts: 1 });
  const ctx = srv.app.ctx;
  env = {
    store: ctx.store, keyring: ctx.keyring, region: ctx.region, accountId: ctx.accountId, dataDir: srv.dataDir, now: ctx.now,
    endpointUrl: () => srv.endpoint, auth: srv.app.auth,
  };
});
after(async () => {
  lambda.destroy();
  await srv.stop();
});

async function createRotator(name: string): Promise<string> {
  const out = await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'python3.12', Role: ROLE, Handler: 'rotator.lambda_handler', Timeout: 30,
    Code: { ZipFile: zipSync({ 'rotator.py': strToU8(ROTATOR) }) },
  }));
  return out.FunctionArn!;
}

const allowSecretsManager = (name: string, sourceArn?: string) => lambda.send(new AddPermissionCommand({
  FunctionName: name, StatementId: 'secretsmanager', Action: 'lambda:InvokeFunction', Principal: 'secretsmanager.amazonaws.com', SourceArn: sourceArn,
}));

test('processFunctionSource: refused without a policy for secretsmanager, then runs the four steps', async () => {
  const secret = await sm.send(new CreateSecretCommand({ Name: 'rotated/direct', SecretString: JSON.stringify({ username: 'app', password: 'old' }) }));
  const arn = await createRotator('direct-rotator');
  const source = processFunctionSource(env);
  await assert.rejects(env.store.read((tx) => resolveFunction([source], tx, arn)), { name: 'ServiceError', message: CANNOT_INVOKE });

  await allowSecretsManager('direct-rotator', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rotated/*');
  const fn = await env.store.read((tx) => resolveFunction([source], tx, arn));
  // a secret the SourceArn condition does not cover is refused at invocation
  const other = await fn.invoke({ Step: 'createSecret', SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:elsewhere-AbCdEf', ClientRequestToken: 't' });
  assert.deepEqual(other, { ok: false, error: `AccessDeniedException: ${CANNOT_INVOKE}` });

  const token = '11111111-2222-3333-4444-555555555555';
  // the engine's placeholder is what RotateSecret creates; here the function creates the version itself
  for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
    const outcome = await fn.invoke({ Step: step, SecretId: secret.ARN!, ClientRequestToken: token });
    assert.deepEqual(outcome, { ok: true }, step);
  }
  const now = await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN }));
  assert.equal(now.VersionId, token);
  assert.notEqual(JSON.parse(now.SecretString!).password, 'old');
});

test('RotateSecret with a process function: AccessDenied without permission, rotation with it', async () => {
  const secret = await sm.send(new CreateSecretCommand({ Name: 'rotated/api', SecretString: JSON.stringify({ username: 'app', password: 'old' }) }));
  const arn = await createRotator('api-rotator');
  await rejects(sm.send(new RotateSecretCommand({ SecretId: secret.ARN, RotationLambdaARN: arn })), 'AccessDeniedException', CANNOT_INVOKE);
  await allowSecretsManager('api-rotator');
  const rotated = await sm.send(new RotateSecretCommand({ SecretId: secret.ARN, RotationLambdaARN: arn }));
  const until = Date.now() + 30_000;
  for (;;) {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: secret.ARN }));
    if (d.VersionIdsToStages?.[rotated.VersionId!]?.includes('AWSCURRENT') && !Object.values(d.VersionIdsToStages).some((s) => s.includes('AWSPENDING'))) break;
    if (Date.now() > until) throw new Error(`rotation did not finish: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const value = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN }))).SecretString!);
  assert.equal(value.username, 'app');
  assert.notEqual(value.password, 'old');
});
