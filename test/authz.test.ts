import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, ListSecretsCommand, PutResourcePolicyCommand, PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import { assumeRole, query, userWithPolicies, type Keys } from './helpers/iam.js';
import { MAIN, ROOT } from './helpers/process.js';
import { seedJson } from './helpers/seed.js';

/*
 * Secrets Manager calls under IAM's rules, through the JS SDK: users and a role with identity
 * policies, secrets with resource policies, the seed's execution-role policy and resource policy
 * verbatim, AccessDeniedException in AWS's words, and an audit record for every call.
 */

const ACCOUNT = '123456789012';
const ARN = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}`;
const CANARY = `authz-canary-${process.pid}-${Date.now()}`;

let srv: TestServer;
let root: SecretsManagerClient;
before(async () => {
  srv = await startServer();
  root = srv.client();
});
after(() => srv?.stop());

function clientFor(keys: Keys): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: srv.endpoint, region: 'us-east-1', credentials: keys, maxAttempts: 1 });
}

async function denied(p: Promise<unknown>, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.equal(e.name, 'AccessDeniedException');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('identity policies', () => {
  test('a user reads what its policy allows; anything else is AccessDeniedException in AWS words', async () => {
    await root.send(new CreateSecretCommand({ Name: 'app/db', SecretString: CANARY }));
    await root.send(new CreateSecretCommand({ Name: 'other/x', SecretString: 'other' }));
    const alice = clientFor(await userWithPolicies(srv.endpoint, srv.credentials, 'alice', {
      read: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: `${ARN('app/')}*` }] },
    }));
    assert.equal((await alice.send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString, CANARY);
    const other = (await root.send(new GetSecretValueCommand({ SecretId: 'other/x' }))).ARN!;
    await denied(alice.send(new GetSecretValueCommand({ SecretId: 'other/x' })),
      `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: secretsmanager:GetSecretValue on resource: ${other} because no identity-based policy allows the secretsmanager:GetSecretValue action`);
    await denied(alice.send(new ListSecretsCommand({})),
      `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action`);
    await denied(alice.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'changed' })), /not authorized to perform: secretsmanager:PutSecretValue/);
    assert.equal((await root.send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString, CANARY, 'a denied write changed nothing');
  });

  test('an explicit Deny wins, in an identity policy and in the resource policy', async () => {
    await root.send(new CreateSecretCommand({ Name: 'app/locked', SecretString: 'x' }));
    const dave = clientFor(await userWithPolicies(srv.endpoint, srv.credentials, 'dave', {
      all: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] },
      'no-prod': { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: `${ARN('prod/')}*` }] },
    }));
    await root.send(new CreateSecretCommand({ Name: 'prod/deny-me', SecretString: 'x' }));
    await denied(dave.send(new GetSecretValueCommand({ SecretId: 'prod/deny-me' })), /with an explicit deny in an identity-based policy$/);
    assert.equal((await dave.send(new GetSecretValueCommand({ SecretId: 'app/locked' }))).SecretString, 'x');
    await root.send(new PutResourcePolicyCommand({
      SecretId: 'app/locked',
      ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/dave` }, Action: 'secretsmanager:*', Resource: '*' }] }),
    }));
    await denied(dave.send(new GetSecretValueCommand({ SecretId: 'app/locked' })), /with an explicit deny in a resource-based policy$/);
  });

  test('a resource policy naming a user is enough on its own', async () => {
    await root.send(new CreateSecretCommand({ Name: 'shared/one', SecretString: 'for bob' }));
    const bob = clientFor(await userWithPolicies(srv.endpoint, srv.credentials, 'bob'));
    await denied(bob.send(new GetSecretValueCommand({ SecretId: 'shared/one' })), /because no identity-based policy allows/);
    await root.send(new PutResourcePolicyCommand({
      SecretId: 'shared/one',
      ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] }),
    }));
    assert.equal((await bob.send(new GetSecretValueCommand({ SecretId: 'shared/one' }))).SecretString, 'for bob');
  });
});

describe("the seed's execution-role policy and resource policy, verbatim", () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/rotation-lambda-role`;
  let session: SecretsManagerClient;

  before(async () => {
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/carol` }, Action: 'sts:AssumeRole' }] });
    const carol = await userWithPolicies(srv.endpoint, srv.credentials, 'carol');
    await query(srv.endpoint, srv.credentials, 'iam', { Action: 'CreateRole', RoleName: 'rotation-lambda-role', AssumeRolePolicyDocument: trust });
    session = clientFor(await assumeRole(srv.endpoint, carol, role, 'rotation'));
    await root.send(new CreateSecretCommand({ Name: 'prod/myapp/database', SecretString: JSON.stringify({ password: 'one' }) }));
    await root.send(new PutSecretValueCommand({ SecretId: 'prod/myapp/database', SecretString: JSON.stringify({ password: 'two' }) }));
    await root.send(new PutSecretValueCommand({ SecretId: 'prod/myapp/database', SecretString: JSON.stringify({ password: 'three' }), VersionStages: ['AWSPENDING'] }));
    await root.send(new PutResourcePolicyCommand({ SecretId: 'prod/myapp/database', ResourcePolicy: seedJson('### Secret Resource Policy'), BlockPublicPolicy: true }));
  });

  const read = (stage: string) => session.send(new GetSecretValueCommand({ SecretId: 'prod/myapp/database', VersionStage: stage }));

  test('with no identity grant of its own, the role reads AWSCURRENT and AWSPENDING through the resource policy, not AWSPREVIOUS', async () => {
    assert.equal(JSON.parse((await read('AWSCURRENT')).SecretString!).password, 'two');
    assert.equal(JSON.parse((await read('AWSPENDING')).SecretString!).password, 'three');
    await denied(read('AWSPREVIOUS'),
      /^User: arn:aws:sts::123456789012:assumed-role\/rotation-lambda-role\/rotation is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod\/myapp\/database-\w{6} because no identity-based policy allows/);
  });

  test('with the execution-role policy attached too, IAM lets the role read every stage; outside prod/ and beyond its job it is denied', async () => {
    await query(srv.endpoint, srv.credentials, 'iam', {
      Action: 'PutRolePolicy', RoleName: 'rotation-lambda-role', PolicyName: 'rotation', PolicyDocument: seedJson('### Lambda Execution Role'),
    });
    assert.equal(JSON.parse((await read('AWSPREVIOUS')).SecretString!).password, 'one');
    await root.send(new CreateSecretCommand({ Name: 'staging/db', SecretString: 'x' }));
    await denied(session.send(new GetSecretValueCommand({ SecretId: 'staging/db' })), /because no identity-based policy allows/);
    await denied(session.send(new DeleteSecretCommand({ SecretId: 'prod/myapp/database' })), /secretsmanager:DeleteSecret/);
  });
});

describe('the audit trail', () => {
  test('records every call with its decision, verifies, and never holds a value', async () => {
    const run = (...args: string[]) => execFileSync(process.execPath, [MAIN, 'audit', ...args, '--data-dir', srv.dataDir], { cwd: ROOT, encoding: 'utf8' });
    // The records of this file's earlier calls: alice's denied read among them.
    const deniedLines = run('query', '--principal', `arn:aws:iam::${ACCOUNT}:user/alice`, '--outcome', 'denied').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(deniedLines.some((r) => r.action === 'secretsmanager:GetSecretValue' && r.resource.includes('other/x') && r.decision.effect === 'implicit-deny'));
    const allowed = run('query', '--principal', `arn:aws:iam::${ACCOUNT}:user/alice`, '--action', 'secretsmanager:GetSecretValue', '--outcome', 'success').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(allowed.length >= 1);
    assert.match(allowed[0].decision.reason, /Allowed by/);
    assert.equal(allowed[0].accessKeyId.startsWith('LKIA'), true);
    assert.match(run('verify'), /^ok: \d+ records, chain intact/);
    const all = run('query');
    assert.ok(!all.includes(CANARY), 'a secret value in the audit trail');
    assert.ok(all.includes('"principal":"root"'));
    // Nor is it anywhere in the data directory's files (values are sealed; the audit holds none).
    for (const f of readdirSync(srv.dataDir)) {
      const path = join(srv.dataDir, f);
      if (statSync(path).isFile()) assert.ok(!readFileSync(path).includes(CANARY), `the canary is in ${f}`);
    }
  });
});

describe('the event stream under policies', () => {
  test('needs lockstep:SubscribeEvents, and ends when the key that opened it is deactivated', async () => {
    const { signGet } = await import('../src/client/sign.js');
    const url = new URL('/lockstep/events', srv.endpoint);
    const open = (k: Keys) => fetch(url, { headers: signGet(url, k, 'us-east-1', 'secretsmanager') });
    const nobody = await userWithPolicies(srv.endpoint, srv.credentials, 'no-events');
    const refused = await open(nobody);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /AccessDeniedException.*lockstep:SubscribeEvents/);
    const watcher = await userWithPolicies(srv.endpoint, srv.credentials, 'watcher', {
      events: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lockstep:SubscribeEvents', Resource: '*' }] },
    });
    const res = await open(watcher);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read(); // the stream is live
    await query(srv.endpoint, srv.credentials, 'iam', { Action: 'UpdateAccessKey', UserName: 'watcher', AccessKeyId: watcher.accessKeyId, Status: 'Inactive' });
    const t0 = Date.now();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    assert.ok(Date.now() - t0 < 5_000, 'the stream outlived its key');
  });
});

describe('when the audit record cannot be written', () => {
  test('the request is refused: no value leaves the server', async () => {
    const Database = (await import('better-sqlite3')).default;
    await root.send(new CreateSecretCommand({ Name: 'audit/blocked', SecretString: `${CANARY}-blocked` }));
    const db = new Database(join(srv.dataDir, 'lockstep.sqlite'));
    try {
      db.exec("CREATE TRIGGER audit_blocked BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit blocked'); END;");
      await assert.rejects(root.send(new GetSecretValueCommand({ SecretId: 'audit/blocked' })), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(e.name, 'InternalServiceError');
        assert.ok(!e.message.includes(CANARY));
        return true;
      });
      db.exec('DROP TRIGGER audit_blocked');
      assert.equal((await root.send(new GetSecretValueCommand({ SecretId: 'audit/blocked' }))).SecretString, `${CANARY}-blocked`);
    } finally {
      db.exec('DROP TRIGGER IF EXISTS audit_blocked');
      db.close();
    }
  });
});
