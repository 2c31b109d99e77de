// End-to-end: versions and staging labels — idempotency tokens, GetSecretValue selection and errors,
// UpdateSecretVersionStage, UpdateSecret, ListSecretVersionIds (visibility and pagination).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand,
  PutSecretValueCommand, UpdateSecretCommand, UpdateSecretVersionStageCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Messages } from '../src/errors.js';
import { rejects, useServer, type AwsError } from './helpers/sdk.js';
import { createTestKey } from './helpers/kms.js';
import type { TestServer } from './helpers/server.js';

let sm: SecretsManagerClient;
let srv: TestServer;
useServer((s) => ({ sm, srv } = s));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates a secret with a first version and returns its version id. */
async function create(name: string, value = 'v1'): Promise<string> {
  return (await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }))).VersionId!;
}

async function put(name: string, value: string, stages?: string[]): Promise<string> {
  return (await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value, VersionStages: stages }))).VersionId!;
}

/** version id -> its stages, from ListSecretVersionIds with IncludeDeprecated. */
async function stagesById(name: string): Promise<Map<string, string[] | undefined>> {
  const out = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
  return new Map(out.Versions!.map((v) => [v.VersionId!, v.VersionStages]));
}

async function valueOf(name: string, opts: { VersionStage?: string; VersionId?: string } = {}): Promise<string | undefined> {
  return (await sm.send(new GetSecretValueCommand({ SecretId: name, ...opts }))).SecretString;
}

describe('ClientRequestToken idempotency (PutSecretValue)', () => {
  test('same token and same value: same VersionId, no new version', async () => {
    await create('idem/same');
    const token = randomUUID();
    const first = await sm.send(new PutSecretValueCommand({ SecretId: 'idem/same', SecretString: 'v2', ClientRequestToken: token }));
    assert.equal(first.VersionId, token);
    const count = (await stagesById('idem/same')).size;
    assert.equal(count, 2);
    const again = await sm.send(new PutSecretValueCommand({ SecretId: 'idem/same', SecretString: 'v2', ClientRequestToken: token }));
    assert.equal(again.VersionId, token);
    assert.deepEqual(again.VersionStages, ['AWSCURRENT']);
    assert.equal((await stagesById('idem/same')).size, count, 'a retried put created a version');
    assert.equal(await valueOf('idem/same'), 'v2');
    assert.equal(await valueOf('idem/same', { VersionStage: 'AWSPREVIOUS' }), 'v1', 'a retried put moved the labels');
  });

  test('same token and same binary value is idempotent too', async () => {
    await create('idem/binary');
    const token = randomUUID();
    const bytes = Buffer.from([0, 255, 1, 254]);
    await sm.send(new PutSecretValueCommand({ SecretId: 'idem/binary', SecretBinary: bytes, ClientRequestToken: token }));
    const again = await sm.send(new PutSecretValueCommand({ SecretId: 'idem/binary', SecretBinary: bytes, ClientRequestToken: token }));
    assert.equal(again.VersionId, token);
    assert.equal((await stagesById('idem/binary')).size, 2);
  });

  test('same token and a different value is ResourceExistsException and changes nothing', async () => {
    await create('idem/diff');
    const token = randomUUID();
    await sm.send(new PutSecretValueCommand({ SecretId: 'idem/diff', SecretString: 'v2', ClientRequestToken: token }));
    await rejects(
      sm.send(new PutSecretValueCommand({ SecretId: 'idem/diff', SecretString: 'other', ClientRequestToken: token })),
      'ResourceExistsException',
    );
    await rejects(
      sm.send(new PutSecretValueCommand({ SecretId: 'idem/diff', SecretBinary: Buffer.from('v2'), ClientRequestToken: token })),
      'ResourceExistsException',
    );
    assert.equal(await valueOf('idem/diff', { VersionId: token }), 'v2');
    assert.equal((await stagesById('idem/diff')).size, 2);
  });
});

describe('ClientRequestToken idempotency (CreateSecret, UpdateSecret)', () => {
  test('CreateSecret retried with the same token and value is ignored; with another value it fails', async () => {
    const token = randomUUID();
    const first = await sm.send(new CreateSecretCommand({ Name: 'idem/create', SecretString: 'same', ClientRequestToken: token }));
    const again = await sm.send(new CreateSecretCommand({ Name: 'idem/create', SecretString: 'same', ClientRequestToken: token }));
    assert.equal(again.ARN, first.ARN);
    assert.equal(again.VersionId, token);
    assert.equal((await stagesById('idem/create')).size, 1);
    await rejects(
      sm.send(new CreateSecretCommand({ Name: 'idem/create', SecretString: 'different', ClientRequestToken: token })),
      'ResourceExistsException',
    );
    assert.equal(await valueOf('idem/create'), 'same');
  });

  test('UpdateSecret with a token that names an existing version is an error, even with the same value', async () => {
    // API reference, UpdateSecret: "If you call this operation with a ClientRequestToken that matches an
    // existing version's VersionId, the operation results in an error."
    await create('idem/update');
    const token = randomUUID();
    await sm.send(new UpdateSecretCommand({ SecretId: 'idem/update', SecretString: 'v2', ClientRequestToken: token }));
    const err = await sm
      .send(new UpdateSecretCommand({ SecretId: 'idem/update', SecretString: 'v2', ClientRequestToken: token }))
      .then(() => undefined, (e: unknown) => e as AwsError);
    assert.equal((await stagesById('idem/update')).size, 2);
    assert.equal(await valueOf('idem/update'), 'v2');
    assert.ok(err, 'UpdateSecret with the token of an existing version succeeded');
    assert.equal(err.name, 'ResourceExistsException', err.message);
    assert.equal(err.$metadata?.httpStatusCode, 400);
  });
});

describe('concurrent writes', () => {
  test('20 concurrent puts: 21 versions, exactly one AWSCURRENT and one AWSPREVIOUS', async () => {
    await create('race/puts');
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => put('race/puts', `p${i}`)));
    assert.equal(new Set(ids).size, 20);
    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'race/puts', IncludeDeprecated: true }));
    assert.equal(all.Versions!.length, 21);
    const stages = all.Versions!.flatMap((v) => v.VersionStages ?? []);
    assert.deepEqual(stages.sort(), ['AWSCURRENT', 'AWSPREVIOUS']);
    const cur = all.Versions!.find((v) => v.VersionStages?.includes('AWSCURRENT'))!;
    assert.equal(cur.VersionId, all.Versions![20].VersionId, 'AWSCURRENT is not on the newest version');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'race/puts' }))).VersionId, cur.VersionId);
  });

  test('10 concurrent retries of one token and value: one version, all answer with that VersionId', async () => {
    await create('race/token');
    const token = randomUUID();
    const outs = await Promise.all(Array.from({ length: 10 }, () =>
      sm.send(new PutSecretValueCommand({ SecretId: 'race/token', SecretString: 'same', ClientRequestToken: token }))));
    for (const o of outs) assert.equal(o.VersionId, token);
    assert.equal((await stagesById('race/token')).size, 2);
  });
});

describe('GetSecretValue', () => {
  let v1 = '';
  let v2 = '';
  let v3 = '';
  before(async () => {
    v1 = await create('get/main', 'one');
    v2 = await put('get/main', 'two');
    v3 = await put('get/main', 'three');
  });

  test('AWSCURRENT by default, AWSPREVIOUS after two puts, and any version by id', async () => {
    const cur = await sm.send(new GetSecretValueCommand({ SecretId: 'get/main' }));
    assert.equal(cur.SecretString, 'three');
    assert.equal(cur.VersionId, v3);
    assert.deepEqual(cur.VersionStages, ['AWSCURRENT']);
    const prev = await sm.send(new GetSecretValueCommand({ SecretId: 'get/main', VersionStage: 'AWSPREVIOUS' }));
    assert.equal(prev.SecretString, 'two');
    assert.equal(prev.VersionId, v2);
    assert.deepEqual(prev.VersionStages, ['AWSPREVIOUS']);
    const old = await sm.send(new GetSecretValueCommand({ SecretId: 'get/main', VersionId: v1 }));
    assert.equal(old.SecretString, 'one');
    assert.deepEqual(old.VersionStages, []);
    const both = await sm.send(new GetSecretValueCommand({ SecretId: 'get/main', VersionId: v2, VersionStage: 'AWSPREVIOUS' }));
    assert.equal(both.SecretString, 'two');
  });

  test('VersionId and a VersionStage it does not carry is InvalidRequestException', async () => {
    await rejects(
      sm.send(new GetSecretValueCommand({ SecretId: 'get/main', VersionId: v2, VersionStage: 'AWSCURRENT' })),
      'InvalidRequestException',
      Messages.stageNotOnVersion,
    );
  });

  test('unknown VersionId, unknown stage: ResourceNotFoundException naming them', async () => {
    const id = randomUUID();
    await rejects(sm.send(new GetSecretValueCommand({ SecretId: 'get/main', VersionId: id })), 'ResourceNotFoundException', Messages.versionNotFoundForId(id));
    await rejects(
      sm.send(new GetSecretValueCommand({ SecretId: 'get/main', VersionStage: 'NOSUCHSTAGE' })),
      'ResourceNotFoundException',
      Messages.versionNotFoundForStage('NOSUCHSTAGE'),
    );
    await rejects(
      sm.send(new GetSecretValueCommand({ SecretId: 'get/main', VersionStage: 'AWSPENDING' })),
      'ResourceNotFoundException',
      Messages.versionNotFoundForStage('AWSPENDING'),
    );
  });

  test('a secret without a value: ResourceNotFoundException for staging label AWSCURRENT', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'get/novalue' }));
    await rejects(sm.send(new GetSecretValueCommand({ SecretId: 'get/novalue' })), 'ResourceNotFoundException', Messages.versionNotFoundForStage('AWSCURRENT'));
  });

  test('a secret scheduled for deletion: InvalidRequestException', async () => {
    const v = await create('get/deleted');
    await sm.send(new DeleteSecretCommand({ SecretId: 'get/deleted' }));
    await rejects(sm.send(new GetSecretValueCommand({ SecretId: 'get/deleted' })), 'InvalidRequestException', Messages.markedForDeletion);
    await rejects(sm.send(new GetSecretValueCommand({ SecretId: 'get/deleted', VersionId: v })), 'InvalidRequestException', Messages.markedForDeletion);
  });

  test('LastAccessedDate appears after a read, truncated to midnight UTC, on the secret and the version', async () => {
    const v = await create('get/accessed');
    const before = await sm.send(new DescribeSecretCommand({ SecretId: 'get/accessed' }));
    assert.ok(!('LastAccessedDate' in before), 'LastAccessedDate before any read');
    const t0 = Date.now();
    await sm.send(new GetSecretValueCommand({ SecretId: 'get/accessed' }));
    const t1 = Date.now();
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'get/accessed' }));
    assert.ok(d.LastAccessedDate instanceof Date, 'LastAccessedDate missing after a read');
    const ms = d.LastAccessedDate.getTime();
    assert.equal(ms % 86_400_000, 0, `LastAccessedDate ${d.LastAccessedDate.toISOString()} is not midnight UTC`);
    const days = new Set([Math.floor(t0 / 86_400_000) * 86_400_000, Math.floor(t1 / 86_400_000) * 86_400_000]);
    assert.ok(days.has(ms), 'LastAccessedDate is not the day of the read');
    assert.equal(d.LastChangedDate!.getTime(), before.LastChangedDate!.getTime(), 'a read moved LastChangedDate');
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'get/accessed' }));
    const ver = versions.Versions!.find((x) => x.VersionId === v)!;
    assert.equal(ver.LastAccessedDate?.getTime(), ms);
  });
});

describe('staging labels', () => {
  test('a put with VersionStages [AWSPENDING] leaves AWSCURRENT where it was', async () => {
    const v1 = await create('labels/pending');
    const res = await sm.send(new PutSecretValueCommand({ SecretId: 'labels/pending', SecretString: 'p', VersionStages: ['AWSPENDING'] }));
    assert.deepEqual(res.VersionStages, ['AWSPENDING']);
    assert.equal(await valueOf('labels/pending'), 'v1');
    assert.equal(await valueOf('labels/pending', { VersionStage: 'AWSPENDING' }), 'p');
    const m = await stagesById('labels/pending');
    assert.deepEqual(m.get(v1), ['AWSCURRENT']);
    assert.deepEqual(m.get(res.VersionId!), ['AWSPENDING']);
  });

  test('moving AWSCURRENT with MoveToVersionId + RemoveFromVersionId moves AWSPREVIOUS to the old current', async () => {
    const v1 = await create('labels/move');
    const v2 = await put('labels/move', 'v2');
    const v3 = await put('labels/move', 'v3', ['AWSPENDING']);
    await sm.send(new UpdateSecretVersionStageCommand({
      SecretId: 'labels/move', VersionStage: 'AWSCURRENT', MoveToVersionId: v3, RemoveFromVersionId: v2,
    }));
    const m = await stagesById('labels/move');
    assert.deepEqual(m.get(v3), ['AWSCURRENT', 'AWSPENDING']);
    assert.deepEqual(m.get(v2), ['AWSPREVIOUS']);
    assert.equal(m.get(v1), undefined, 'the former AWSPREVIOUS version kept a label');
    assert.equal(await valueOf('labels/move'), 'v3');
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'labels/move' }));
    assert.deepEqual(d.VersionIdsToStages, { [v2]: ['AWSPREVIOUS'], [v3]: ['AWSCURRENT', 'AWSPENDING'] });
  });

  test('rolling back: moving AWSCURRENT onto the AWSPREVIOUS version swaps the two labels', async () => {
    const v1 = await create('labels/rollback');
    const v2 = await put('labels/rollback', 'v2');
    await sm.send(new UpdateSecretVersionStageCommand({
      SecretId: 'labels/rollback', VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v2,
    }));
    const m = await stagesById('labels/rollback');
    assert.deepEqual(m.get(v1), ['AWSCURRENT']);
    assert.deepEqual(m.get(v2), ['AWSPREVIOUS']);
    assert.equal(await valueOf('labels/rollback'), 'v1');
  });

  test('moving a label held by another version without RemoveFromVersionId is InvalidParameterException', async () => {
    const v1 = await create('labels/noremove');
    const v2 = await put('labels/noremove', 'v2', ['AWSPENDING']);
    await rejects(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels/noremove', VersionStage: 'AWSCURRENT', MoveToVersionId: v2 })),
      'InvalidParameterException',
    );
    // RemoveFromVersionId naming a version that does not hold the label is refused too.
    await rejects(
      sm.send(new UpdateSecretVersionStageCommand({
        SecretId: 'labels/noremove', VersionStage: 'AWSCURRENT', MoveToVersionId: v2, RemoveFromVersionId: v2,
      })),
      'InvalidParameterException',
    );
    const m = await stagesById('labels/noremove');
    assert.deepEqual(m.get(v1), ['AWSCURRENT']);
    assert.deepEqual(m.get(v2), ['AWSPENDING']);
  });

  test('a custom label can be removed; AWSCURRENT cannot be removed without a target', async () => {
    const v1 = await create('labels/remove');
    const v2 = await put('labels/remove', 'v2', ['CUSTOM']);
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels/remove', VersionStage: 'CUSTOM', RemoveFromVersionId: v2 }));
    const m = await stagesById('labels/remove');
    assert.equal(m.get(v2), undefined, 'CUSTOM still attached');
    await rejects(
      sm.send(new GetSecretValueCommand({ SecretId: 'labels/remove', VersionStage: 'CUSTOM' })),
      'ResourceNotFoundException',
      Messages.versionNotFoundForStage('CUSTOM'),
    );
    await rejects(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels/remove', VersionStage: 'AWSCURRENT', RemoveFromVersionId: v1 })),
      'InvalidParameterException',
    );
    assert.equal(await valueOf('labels/remove'), 'v1');
    assert.deepEqual((await stagesById('labels/remove')).get(v1), ['AWSCURRENT']);
  });

  test('a custom label is on one version at a time', async () => {
    await create('labels/single');
    const v2 = await put('labels/single', 'v2', ['X']);
    const v3 = await put('labels/single', 'v3', ['X']);
    const m = await stagesById('labels/single');
    assert.equal(m.get(v2), undefined, 'X stayed on the older version');
    assert.deepEqual(m.get(v3), ['X']);
    assert.equal(await valueOf('labels/single', { VersionStage: 'X' }), 'v3');
    // UpdateSecretVersionStage moves it back (naming its holder).
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels/single', VersionStage: 'X', MoveToVersionId: v2, RemoveFromVersionId: v3 }));
    assert.equal(await valueOf('labels/single', { VersionStage: 'X' }), 'v2');
  });

  test('unlabelled versions are hidden from ListSecretVersionIds unless IncludeDeprecated', async () => {
    const v1 = await create('labels/deprecated');
    const v2 = await put('labels/deprecated', 'v2');
    const v3 = await put('labels/deprecated', 'v3');
    const shown = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'labels/deprecated' }));
    assert.deepEqual(shown.Versions!.map((v) => v.VersionId), [v2, v3]);
    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'labels/deprecated', IncludeDeprecated: true }));
    assert.deepEqual(all.Versions!.map((v) => v.VersionId), [v1, v2, v3]);
    assert.ok(!('VersionStages' in all.Versions![0]), 'a deprecated version carries a VersionStages key');
    assert.equal(all.Name, 'labels/deprecated');
  });

  test('labels are returned sorted everywhere', async () => {
    await create('labels/sorted');
    const res = await sm.send(new PutSecretValueCommand({ SecretId: 'labels/sorted', SecretString: 's', VersionStages: ['zeta', 'alpha', 'mid'] }));
    const sorted = ['alpha', 'mid', 'zeta'];
    assert.deepEqual(res.VersionStages, sorted);
    assert.deepEqual((await sm.send(new GetSecretValueCommand({ SecretId: 'labels/sorted', VersionStage: 'mid' }))).VersionStages, sorted);
    assert.deepEqual((await stagesById('labels/sorted')).get(res.VersionId!), sorted);
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'labels/sorted' }));
    assert.deepEqual(d.VersionIdsToStages![res.VersionId!], sorted);
  });

  test('UpdateSecretVersionStage on a missing version or secret fails cleanly', async () => {
    const v1 = await create('labels/missing');
    await rejects(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels/missing', VersionStage: 'X', MoveToVersionId: randomUUID() })),
      'InvalidParameterException',
    );
    await rejects(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels/nope', VersionStage: 'X', MoveToVersionId: v1 })),
      'ResourceNotFoundException',
      Messages.secretNotFound,
    );
  });
});

describe('UpdateSecret', () => {
  test('Description only: no VersionId, LastChangedDate moves, versions untouched', async () => {
    const v1 = await create('update/desc');
    const before = await sm.send(new DescribeSecretCommand({ SecretId: 'update/desc' }));
    await sleep(20);
    const out = await sm.send(new UpdateSecretCommand({ SecretId: 'update/desc', Description: 'new description' }));
    assert.ok(!('VersionId' in out), 'UpdateSecret without a value returned a VersionId');
    assert.equal(out.Name, 'update/desc');
    const after = await sm.send(new DescribeSecretCommand({ SecretId: 'update/desc' }));
    assert.equal(after.Description, 'new description');
    assert.ok(after.LastChangedDate!.getTime() > before.LastChangedDate!.getTime(), 'LastChangedDate did not move');
    assert.deepEqual(after.VersionIdsToStages, { [v1]: ['AWSCURRENT'] });
  });

  test('with a value: a new AWSCURRENT, and AWSPREVIOUS moves to the old current', async () => {
    const v1 = await create('update/value');
    const v2 = await put('update/value', 'v2');
    const out = await sm.send(new UpdateSecretCommand({ SecretId: 'update/value', SecretString: 'v3' }));
    assert.ok(out.VersionId);
    assert.notEqual(out.VersionId, v2);
    assert.equal(await valueOf('update/value'), 'v3');
    const m = await stagesById('update/value');
    assert.deepEqual(m.get(out.VersionId!), ['AWSCURRENT']);
    assert.deepEqual(m.get(v2), ['AWSPREVIOUS']);
    assert.equal(m.get(v1), undefined);
  });

  test('KmsKeyId: a new key applies to new versions; an empty string goes back to the default key', async () => {
    await create('update/kms');
    const key = await createTestKey(srv, 'alias/new-key');
    await sm.send(new UpdateSecretCommand({ SecretId: 'update/kms', KmsKeyId: 'alias/new-key' }));
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'update/kms' }))).KmsKeyId, 'alias/new-key');
    const v2 = await put('update/kms', 'v2');
    const list = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'update/kms' }));
    assert.deepEqual(list.Versions!.find((v) => v.VersionId === v2)!.KmsKeyIds, [key.Arn]);
    // UpdateSecretRequest.KmsKeyId: "If you set this to an empty string, Secrets Manager uses the Amazon Web
    // Services managed key aws/secretsmanager." DescribeSecret then omits KmsKeyId.
    await sm.send(new UpdateSecretCommand({ SecretId: 'update/kms', KmsKeyId: '' }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'update/kms' }));
    assert.ok(!('KmsKeyId' in d), `KmsKeyId ${JSON.stringify(d.KmsKeyId)} shown after resetting to the default key`);
    const v3 = await put('update/kms', 'v3');
    const list2 = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'update/kms' }));
    assert.deepEqual(list2.Versions!.find((v) => v.VersionId === v3)!.KmsKeyIds, ['DefaultEncryptionKey']);
  });

  test('on a secret scheduled for deletion: InvalidRequestException; on a missing one: ResourceNotFoundException', async () => {
    await create('update/deleted');
    await sm.send(new DeleteSecretCommand({ SecretId: 'update/deleted' }));
    await rejects(sm.send(new UpdateSecretCommand({ SecretId: 'update/deleted', Description: 'd' })), 'InvalidRequestException', Messages.markedForDeletion);
    await rejects(sm.send(new UpdateSecretCommand({ SecretId: 'update/deleted', SecretString: 'x' })), 'InvalidRequestException', Messages.markedForDeletion);
    await rejects(sm.send(new PutSecretValueCommand({ SecretId: 'update/deleted', SecretString: 'x' })), 'InvalidRequestException', Messages.markedForDeletion);
    await rejects(sm.send(new UpdateSecretCommand({ SecretId: 'update/none', Description: 'd' })), 'ResourceNotFoundException', Messages.secretNotFound);
  });
});

describe('ListSecretVersionIds', () => {
  test('MaxResults/NextToken visit every version once, oldest first', async () => {
    const ids = [await create('versions/paged')];
    for (let i = 2; i <= 8; i++) ids.push(await put('versions/paged', `v${i}`));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretVersionIdsCommand({
        SecretId: 'versions/paged', IncludeDeprecated: true, MaxResults: 3, NextToken: token,
      }));
      assert.ok(page.Versions!.length <= 3);
      seen.push(...page.Versions!.map((v) => v.VersionId!));
      token = page.NextToken;
      pages++;
    } while (token && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ids);
  });

  test('bad NextToken, bad MaxResults and a missing secret are refused', async () => {
    await create('versions/errors');
    await rejects(
      sm.send(new ListSecretVersionIdsCommand({ SecretId: 'versions/errors', NextToken: 'garbage' })),
      'InvalidNextTokenException',
    );
    await rejects(sm.send(new ListSecretVersionIdsCommand({ SecretId: 'versions/errors', MaxResults: 0 })), 'ValidationException');
    await rejects(sm.send(new ListSecretVersionIdsCommand({ SecretId: 'versions/errors', MaxResults: 101 })), 'ValidationException');
    await rejects(sm.send(new ListSecretVersionIdsCommand({ SecretId: 'versions/none' })), 'ResourceNotFoundException', Messages.secretNotFound);
  });
});
