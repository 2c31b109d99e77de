import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand, ListSecretsCommand, RotateSecretCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { createRotationFunction, finishedRotationRun, zipOf, type Reachable } from './helpers/functions.js';
import { ALL_SECRETS, executionRole, query, userWithPolicies, type Keys } from './helpers/iam.js';
import { MAIN } from './helpers/process.js';
import { seedJson } from './helpers/seed.js';
import { startServer, type TestServer } from './helpers/server.js';
import { openStore } from '../src/storage/open.js';

/*
 * Execution roles: a function runs with temporary keys of its Role, issued for one invocation and
 * deleted when it ends; Lambda refuses a role it could not assume; the role's policies decide what
 * the function may do; the audit trail names the session.
 */

const ACCOUNT = '123456789012';
const CANNOT = 'The role defined for the function cannot be assumed by Lambda.';

/** Reports who the function is (STS), its keys, and the outcome of each Secrets Manager call it is asked to try. */
const PROBE = `import json, os, uuid
import boto3, botocore.exceptions

def attempt(call):
    try:
        call()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]

def handler(event, context):
    me = boto3.client("sts").get_caller_identity()
    sm = boto3.client("secretsmanager")
    prod, other = event.get("prod"), event.get("other")
    token = str(uuid.uuid4())
    calls = {}
    if prod:
        calls = {
            "DescribeSecret": attempt(lambda: sm.describe_secret(SecretId=prod)),
            "GetSecretValue": attempt(lambda: sm.get_secret_value(SecretId=prod)),
            "GetRandomPassword": attempt(lambda: sm.get_random_password(PasswordLength=20)),
            "PutSecretValue": attempt(lambda: sm.put_secret_value(SecretId=prod, ClientRequestToken=token, SecretString="pending", VersionStages=["AWSPENDING"])),
            "UpdateSecretVersionStage": attempt(lambda: sm.update_secret_version_stage(SecretId=prod, VersionStage="AWSPENDING", RemoveFromVersionId=token)),
            "DeleteSecret": attempt(lambda: sm.delete_secret(SecretId=prod, ForceDeleteWithoutRecovery=True)),
            "PutResourcePolicy": attempt(lambda: sm.put_resource_policy(SecretId=prod, ResourcePolicy="{}")),
            "ListSecrets": attempt(lambda: sm.list_secrets()),
            "CreateSecret": attempt(lambda: sm.create_secret(Name="prod/made-by-function", SecretString="x")),
            "GetSecretValue(other)": attempt(lambda: sm.get_secret_value(SecretId=other)),
            "iam:CreateUser": attempt(lambda: boto3.client("iam").create_user(UserName="made-by-function")),
            "lambda:ListFunctions": attempt(lambda: boto3.client("lambda").list_functions()),
            "lambda:UpdateFunctionConfiguration": attempt(lambda: boto3.client("lambda").update_function_configuration(FunctionName=context.function_name, Timeout=5)),
        }
    return {
        "arn": me["Arn"], "account": me["Account"],
        "key": os.environ["AWS_ACCESS_KEY_ID"], "secret": os.environ["AWS_SECRET_ACCESS_KEY"],
        "token": os.environ["AWS_SESSION_TOKEN"], "calls": calls,
    }
`;

let srv: TestServer;
let lambda: LambdaClient;
let root: Keys;
const reach = (): Reachable => ({ url: srv.endpoint, readCredentials: () => srv.credentials });

before(async () => {
  srv = await startServer({ rotation: { retryBaseMs: 50, tickMs: 60_000, maxAttempts: 2 } });
  root = srv.credentials;
  lambda = new LambdaClient({ endpoint: srv.endpoint, region: srv.region, credentials: srv.credentials, maxAttempts: 1 });
});
after(async () => {
  lambda.destroy();
  await srv.stop();
});

const createProbeWith = (client: LambdaClient, name: string, role: string) => client.send(new CreateFunctionCommand({
  FunctionName: name, Runtime: 'python3.12', Role: role, Handler: 'probe.handler', Timeout: 30, Code: { ZipFile: zipOf({ 'probe.py': PROBE }) },
}));
const createProbe = (name: string, role: string) => lambda.send(new CreateFunctionCommand({
  FunctionName: name, Runtime: 'python3.12', Role: role, Handler: 'probe.handler', Timeout: 30, Code: { ZipFile: zipOf({ 'probe.py': PROBE }) },
}));

async function invokeProbe(name: string, event: Record<string, unknown> = {}): Promise<any> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }));
  const body = JSON.parse(Buffer.from(out.Payload!).toString('utf8'));
  assert.equal(out.FunctionError, undefined, JSON.stringify(body));
  return body;
}

const refused = (name: string, message: RegExp) => (e: any) => {
  assert.equal(e.name, name, e.message);
  assert.match(e.message, message);
  return true;
};

describe('Lambda refuses a role it could not assume', () => {
  test('CreateFunction: no such role, a trust policy without lambda.amazonaws.com, another account; nothing is created', async () => {
    await assert.rejects(createProbe('no-role', `arn:aws:iam::${ACCOUNT}:role/never-created`),
      refused('InvalidParameterValueException', new RegExp(`^${CANNOT.replace(/\./g, '\\.')} There is no role arn:aws:iam::${ACCOUNT}:role/never-created`)));
    // A role people may assume, but Lambda may not.
    await query(srv.endpoint, root, 'iam', {
      Action: 'CreateRole', RoleName: 'people-only',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] }),
    });
    await assert.rejects(createProbe('people-only', `arn:aws:iam::${ACCOUNT}:role/people-only`),
      refused('InvalidParameterValueException', /^The role defined for the function cannot be assumed by Lambda\. The trust policy of arn:aws:iam::123456789012:role\/people-only does not let lambda\.amazonaws\.com perform sts:AssumeRole/));
    await assert.rejects(createProbe('elsewhere', 'arn:aws:iam::210987654321:role/rotation'),
      refused('InvalidParameterValueException', /^The role defined for the function cannot be assumed by Lambda\. The role arn:aws:iam::210987654321:role\/rotation is not a role of account 123456789012\.$/));
    for (const name of ['no-role', 'people-only', 'elsewhere']) {
      await assert.rejects(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name })), refused('ResourceNotFoundException', /Function not found/));
    }
  });

  test('UpdateFunctionConfiguration to a role Lambda cannot assume is refused and the function keeps its role', async () => {
    const good = await executionRole(srv.endpoint, root, 'keeps-its-role');
    await createProbe('keeps-role', good);
    await assert.rejects(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'keeps-role', Role: `arn:aws:iam::${ACCOUNT}:role/missing` })),
      refused('InvalidParameterValueException', /cannot be assumed by Lambda/));
    assert.equal((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'keeps-role' }))).Role, good);
  });

  test('a role deleted after CreateFunction: Invoke is refused, and a rotation run fails saying why', async () => {
    const doomed = await executionRole(srv.endpoint, root, 'doomed', {});
    const arn = await createRotationFunction(lambda, { name: 'orphan', role: doomed, code: { 'probe.py': PROBE }, handler: 'probe.handler', timeout: 30 });
    await query(srv.endpoint, root, 'iam', { Action: 'DeleteRole', RoleName: 'doomed' });
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'orphan' })),
      refused('InvalidParameterValueException', new RegExp(`There is no role ${doomed}`)));

    const sm = srv.client();
    const secret = await sm.send(new CreateSecretCommand({ Name: 'orphan/secret', SecretString: 'v1' }));
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: secret.ARN, RotationLambdaARN: arn, RotationRules: { AutomaticallyAfterDays: 30 } }));
    const run = await finishedRotationRun(reach(), secret.ARN!, rotated.VersionId!);
    assert.equal(run.State, 'failed');
    assert.match(run.LastError, /^createSecret failed after 2 attempt\(s\): InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda\. There is no role /);
    sm.destroy();
  });
});

describe('a function runs as a session of its execution role', () => {
  test('the session is <role>/<function>; every invocation gets its own keys, which stop working when it ends', async () => {
    const role = await executionRole(srv.endpoint, root, 'probe-role');
    await createProbe('probe', role);
    const [a, b] = await Promise.all([invokeProbe('probe'), invokeProbe('probe')]);
    for (const r of [a, b]) {
      assert.equal(r.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/probe-role/probe`);
      assert.equal(r.account, ACCOUNT);
      assert.match(r.key, /^LSIA[A-Z0-9]{16}$/);
      assert.notEqual(r.key, root.accessKeyId);
      assert.notEqual(r.secret, root.secretAccessKey);
    }
    assert.notEqual(a.key, b.key, 'each invocation has its own key');

    // After the runs, their keys are refused as unknown.
    for (const r of [a, b]) {
      const leaked = new SecretsManagerClient({
        endpoint: srv.endpoint, region: srv.region, maxAttempts: 1,
        credentials: { accessKeyId: r.key, secretAccessKey: r.secret, sessionToken: r.token },
      });
      await assert.rejects(leaked.send(new ListSecretsCommand({})),
        refused('UnrecognizedClientException', /^The security token included in the request is invalid\.$/));
      leaked.destroy();
    }
    // Each session was recorded as Lambda assuming the role for the function.
    const issued = execFileSync(process.execPath, [MAIN, 'audit', 'query', '--data-dir', srv.dataDir, '--action', 'sts:AssumeRole', '--principal', 'lambda.amazonaws.com'], { encoding: 'utf8' })
      .trim().split('\n').map((l) => JSON.parse(l));
    for (const r of [a, b]) {
      const rec = issued.find((l) => l.accessKeyId === r.key);
      assert.equal(rec?.resource, role);
      assert.equal(rec?.detail?.function, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:probe`);
    }
    assert.ok(!JSON.stringify(issued).includes(a.secret) && !JSON.stringify(issued).includes(a.token));
    // Nothing of those sessions is left in the store.
    const keys = await srv.app.ctx.store.read((tx) => tx.identity.accessKeysOf(role));
    assert.deepEqual(keys.map((k) => k.accessKeyId).filter((k) => k === a.key || k === b.key), []);
  });

  test("with the seed's execution-role policy verbatim, the function does exactly its job and nothing more", async () => {
    const role = await executionRole(srv.endpoint, root, 'rotation-lambda-role', { rotation: seedJson('### Lambda Execution Role') });
    await createProbe('seed-policy-probe', role);
    const sm = srv.client();
    const prod = await sm.send(new CreateSecretCommand({ Name: 'prod/probe/db', SecretString: 'prod-value' }));
    const other = await sm.send(new CreateSecretCommand({ Name: 'staging/probe/db', SecretString: 'staging-value' }));
    const r = await invokeProbe('seed-policy-probe', { prod: prod.ARN, other: other.ARN });
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/rotation-lambda-role/seed-policy-probe`;
    // AWS names no resource for ListSecrets, which has none.
    const denied = (action: string, resource?: string) =>
      `AccessDeniedException: User: ${session} is not authorized to perform: secretsmanager:${action}${resource ? ` on resource: ${resource}` : ''} because no identity-based policy allows the secretsmanager:${action} action`;
    assert.deepEqual(r.calls, {
      DescribeSecret: 'ok',
      GetSecretValue: 'ok',
      GetRandomPassword: 'ok',
      PutSecretValue: 'ok',
      UpdateSecretVersionStage: 'ok',
      DeleteSecret: denied('DeleteSecret', prod.ARN!),
      PutResourcePolicy: denied('PutResourcePolicy', prod.ARN!),
      ListSecrets: denied('ListSecrets'),
      CreateSecret: denied('CreateSecret', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/made-by-function`),
      'GetSecretValue(other)': denied('GetSecretValue', other.ARN!),
      'iam:CreateUser': `AccessDenied: User: ${session} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${ACCOUNT}:user/made-by-function because no identity-based policy allows the iam:CreateUser action`,
      // Its keys cannot reach the Lambda API either: no function of its own making, no new role or code.
      'lambda:ListFunctions': `AccessDeniedException: User: ${session} is not authorized to perform: lambda:ListFunctions because no identity-based policy allows the lambda:ListFunctions action`,
      'lambda:UpdateFunctionConfiguration': `AccessDeniedException: User: ${session} is not authorized to perform: lambda:UpdateFunctionConfiguration on resource: arn:aws:lambda:us-east-1:${ACCOUNT}:function:seed-policy-probe because no identity-based policy allows the lambda:UpdateFunctionConfiguration action`,
    });

    // The audit trail names the session for each call, with the decision.
    const lines = execFileSync(process.execPath, [MAIN, 'audit', 'query', '--data-dir', srv.dataDir, '--principal', session], { encoding: 'utf8' })
      .trim().split('\n').map((l) => JSON.parse(l));
    const seen = (action: string, outcome: string) => lines.some((l) => l.action === action && l.outcome === outcome);
    assert.ok(seen('secretsmanager:GetSecretValue', 'success'), JSON.stringify(lines));
    assert.ok(seen('secretsmanager:PutSecretValue', 'success'));
    assert.ok(seen('secretsmanager:DeleteSecret', 'denied'));
    assert.ok(lines.every((l) => /^LSIA/.test(l.accessKeyId)));
    assert.ok(!JSON.stringify(lines).includes('prod-value'));
    sm.destroy();
  });

  test('a function under the broad test policy still cannot manage IAM', async () => {
    const role = await executionRole(srv.endpoint, root, 'secrets-only', { secrets: ALL_SECRETS });
    await createProbe('secrets-only-probe', role);
    const sm = srv.client();
    const prod = await sm.send(new CreateSecretCommand({ Name: 'prod/broad/db', SecretString: 'v' }));
    const r = await invokeProbe('secrets-only-probe', { prod: prod.ARN, other: prod.ARN });
    assert.equal(r.calls.ListSecrets, 'ok');
    assert.match(r.calls['iam:CreateUser'], /^AccessDenied: User: arn:aws:sts::123456789012:assumed-role\/secrets-only\/secrets-only-probe is not authorized to perform: iam:CreateUser/);
    sm.destroy();
  });
});

describe('the Lambda API under policies', () => {
  test('lambda:<Action> on the function, and iam:PassRole to give a function a role; audited', async () => {
    const role = await executionRole(srv.endpoint, root, 'deployable', { secrets: ALL_SECRETS });
    const deployer = await userWithPolicies(srv.endpoint, root, 'deployer', {
      lambda: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['lambda:CreateFunction', 'lambda:GetFunctionConfiguration', 'lambda:InvokeFunction'], Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:team-*` }] },
    });
    const asDeployer = new LambdaClient({ endpoint: srv.endpoint, region: srv.region, credentials: deployer, maxAttempts: 1 });
    const user = `arn:aws:iam::${ACCOUNT}:user/deployer`;
    try {
      // Without iam:PassRole the function cannot be given the role.
      await assert.rejects(createProbeWith(asDeployer, 'team-probe', role), refused('AccessDeniedException',
        new RegExp(`^User: ${user} is not authorized to perform: iam:PassRole on resource: ${role} because no identity-based policy allows the iam:PassRole action$`)));
      await query(srv.endpoint, root, 'iam', {
        Action: 'PutUserPolicy', UserName: 'deployer', PolicyName: 'pass',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:PassRole', Resource: role, Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } } }] }),
      });
      await createProbeWith(asDeployer, 'team-probe', role);
      assert.equal((await asDeployer.send(new GetFunctionConfigurationCommand({ FunctionName: 'team-probe' }))).Role, role);
      // Outside its functions, and for actions it was not given, the Lambda API says no.
      await assert.rejects(createProbeWith(asDeployer, 'other-probe', role), refused('AccessDeniedException',
        new RegExp(`^User: ${user} is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:${ACCOUNT}:function:other-probe because`)));
      await assert.rejects(asDeployer.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'team-probe', Timeout: 9 })),
        refused('AccessDeniedException', /lambda:UpdateFunctionConfiguration on resource: arn:aws:lambda:us-east-1:123456789012:function:team-probe because/));
      const out = await asDeployer.send(new InvokeCommand({ FunctionName: 'team-probe', Payload: Buffer.from('{}') }));
      assert.equal(out.FunctionError, undefined);
      assert.equal(JSON.parse(Buffer.from(out.Payload!).toString()).arn, `arn:aws:sts::${ACCOUNT}:assumed-role/deployable/team-probe`);
    } finally {
      asDeployer.destroy();
    }
    const lines = execFileSync(process.execPath, [MAIN, 'audit', 'query', '--data-dir', srv.dataDir, '--principal', user, '--action', 'lambda:*'], { encoding: 'utf8' })
      .trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => `${l.action} ${l.outcome}`), [
      'lambda:CreateFunction denied', 'lambda:CreateFunction success', 'lambda:GetFunctionConfiguration success',
      'lambda:CreateFunction denied', 'lambda:UpdateFunctionConfiguration denied', 'lambda:InvokeFunction success',
    ]);
    assert.equal(lines[0].resource, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:team-probe`);
  });
});

describe('shutdown', () => {
  test('a server shutting down kills running invocations and revokes their keys before its store closes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-shutdown-'));
    const s2 = await startServer({ dataDir });
    const l2 = new LambdaClient({ endpoint: s2.endpoint, region: s2.region, credentials: s2.credentials, maxAttempts: 1 });
    const role = await executionRole(s2.endpoint, s2.credentials, 'sleepy');
    await l2.send(new CreateFunctionCommand({
      FunctionName: 'sleepy', Runtime: 'python3.12', Role: role, Handler: 'app.handler', Timeout: 120,
      Code: { ZipFile: zipOf({ 'app.py': 'import time\ndef handler(e, c):\n    time.sleep(100)\n' }) },
    }));
    const queued = await l2.send(new InvokeCommand({ FunctionName: 'sleepy', InvocationType: 'Event' }));
    assert.equal(queued.StatusCode, 202);
    l2.destroy();
    const keysOfRole = () => s2.app.ctx.store.read((tx) => tx.identity.accessKeysOf(role));
    const until = Date.now() + 20_000;
    while ((await keysOfRole()).length === 0) {
      assert.ok(Date.now() < until, 'the invocation never got its keys');
      await new Promise((r) => setTimeout(r, 20));
    }
    const t0 = Date.now();
    await s2.stop();
    assert.ok(Date.now() - t0 < 20_000, 'shutdown waited for the sleeping function');
    const store = openStore('sqlite', s2.dataDir);
    try {
      assert.deepEqual(await store.read((tx) => tx.identity.accessKeysOf(role)), [], "the invocation's key outlived the server");
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
