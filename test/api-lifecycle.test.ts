// End-to-end: DeleteSecret (recovery windows, forced deletion), RestoreSecret, TagResource / UntagResource.
// Purge after the recovery window (which needs an injected clock) is in api-clock.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand,
  RestoreSecretCommand, TagResourceCommand, UntagResourceCommand, type SecretsManagerClient, type Tag,
} from '@aws-sdk/client-secrets-manager';
import { Messages } from '../src/errors.js';
import { rejects, useServer } from './helpers/sdk.js';

let sm: SecretsManagerClient;
useServer((s) => ({ sm } = s));

const DAY = 86_400_000;

async function create(name: string, value = 'v'): Promise<string> {
  return (await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN!;
}

async function describeSecret(name: string) {
  return sm.send(new DescribeSecretCommand({ SecretId: name }));
}

/** Checks that a DeletionDate is `days` days after the moment of the call (within a minute). */
function assertDeletionIn(date: Date | undefined, days: number, t0: number, t1: number): void {
  assert.ok(date instanceof Date, 'DeletionDate missing');
  const ms = date.getTime();
  assert.ok(ms >= t0 + days * DAY - 60_000 && ms <= t1 + days * DAY + 60_000, `DeletionDate ${date.toISOString()} is not now + ${days} days`);
}

describe('DeleteSecret', () => {
  test('default recovery window is 30 days; the secret is kept and marked', async () => {
    const arn = await create('delete/default');
    const t0 = Date.now();
    const out = await sm.send(new DeleteSecretCommand({ SecretId: 'delete/default' }));
    const t1 = Date.now();
    assert.equal(out.ARN, arn);
    assert.equal(out.Name, 'delete/default');
    assertDeletionIn(out.DeletionDate, 30, t0, t1);
    const d = await describeSecret('delete/default');
    assert.ok(d.DeletedDate instanceof Date);
  });

  test('RecoveryWindowInDays 7 and 30 are accepted', async () => {
    for (const days of [7, 30]) {
      await create(`delete/window-${days}`);
      const t0 = Date.now();
      const out = await sm.send(new DeleteSecretCommand({ SecretId: `delete/window-${days}`, RecoveryWindowInDays: days }));
      assertDeletionIn(out.DeletionDate, days, t0, Date.now());
    }
  });

  test('RecoveryWindowInDays 6 and 31 are refused with a clear message, and nothing is deleted', async () => {
    await create('delete/bad-window');
    for (const days of [6, 31, 0, -1]) {
      await rejects(
        sm.send(new DeleteSecretCommand({ SecretId: 'delete/bad-window', RecoveryWindowInDays: days })),
        ['InvalidParameterException', 'ValidationException'],
        /RecoveryWindowInDays|recovery window/i,
      );
    }
    const d = await describeSecret('delete/bad-window');
    assert.ok(!('DeletedDate' in d), 'a refused DeleteSecret scheduled the deletion');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'delete/bad-window' }))).SecretString, 'v');
  });

  test('RecoveryWindowInDays together with ForceDeleteWithoutRecovery is InvalidParameterException', async () => {
    await create('delete/both');
    await rejects(
      sm.send(new DeleteSecretCommand({ SecretId: 'delete/both', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
      'InvalidParameterException',
    );
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'delete/both' }))).SecretString, 'v');
  });

  test('ForceDeleteWithoutRecovery deletes at once: the name is free and a new secret gets a new ARN', async () => {
    const arn = await create('delete/force', 'old');
    const t0 = Date.now();
    const out = await sm.send(new DeleteSecretCommand({ SecretId: 'delete/force', ForceDeleteWithoutRecovery: true }));
    assert.equal(out.ARN, arn);
    assertDeletionIn(out.DeletionDate, 0, t0, Date.now());
    await rejects(describeSecret('delete/force'), 'ResourceNotFoundException', Messages.secretNotFound);
    await rejects(sm.send(new RestoreSecretCommand({ SecretId: 'delete/force' })), 'ResourceNotFoundException', Messages.secretNotFound);
    const list = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['delete/force'] }] }));
    assert.deepEqual(list.SecretList, []);
    const arn2 = await create('delete/force', 'new');
    assert.notEqual(arn2, arn);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'delete/force' }))).SecretString, 'new');
    await rejects(sm.send(new GetSecretValueCommand({ SecretId: arn })), 'ResourceNotFoundException', Messages.secretNotFound);
  });

  test('a secret already scheduled for deletion can be force-deleted, but not scheduled again', async () => {
    await create('delete/twice');
    await sm.send(new DeleteSecretCommand({ SecretId: 'delete/twice' }));
    await rejects(sm.send(new DeleteSecretCommand({ SecretId: 'delete/twice' })), 'InvalidRequestException');
    await sm.send(new DeleteSecretCommand({ SecretId: 'delete/twice', ForceDeleteWithoutRecovery: true }));
    await rejects(describeSecret('delete/twice'), 'ResourceNotFoundException', Messages.secretNotFound);
  });

  test('a missing secret is ResourceNotFoundException', async () => {
    await rejects(sm.send(new DeleteSecretCommand({ SecretId: 'delete/none' })), 'ResourceNotFoundException', Messages.secretNotFound);
  });

  test('force-deleting a nonexistent secret does not return ResourceNotFoundException (AWS API reference)', async () => {
    // DeleteSecretRequest.ForceDeleteWithoutRecovery: "If you forcibly delete an already deleted or nonexistent
    // secret, the operation does not return ResourceNotFoundException."
    const out = await sm.send(new DeleteSecretCommand({ SecretId: 'delete/never-existed', ForceDeleteWithoutRecovery: true }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    await rejects(describeSecret('delete/never-existed'), 'ResourceNotFoundException', Messages.secretNotFound);
  });
});

describe('RestoreSecret', () => {
  test('brings a deleted secret back: value readable, DeletedDate gone, listed again', async () => {
    const arn = await create('restore/one', 'precious');
    await sm.send(new DeleteSecretCommand({ SecretId: 'restore/one' }));
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['restore/one'] }] }));
    assert.deepEqual(listed.SecretList, [], 'a deleted secret is listed without IncludePlannedDeletion');
    const out = await sm.send(new RestoreSecretCommand({ SecretId: 'restore/one' }));
    assert.equal(out.ARN, arn);
    assert.equal(out.Name, 'restore/one');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'restore/one' }))).SecretString, 'precious');
    const d = await describeSecret('restore/one');
    assert.ok(!('DeletedDate' in d), 'DeletedDate still present after RestoreSecret');
    const again = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['restore/one'] }] }));
    assert.deepEqual(again.SecretList!.map((s) => s.ARN), [arn]);
    // It can be deleted again afterwards.
    await sm.send(new DeleteSecretCommand({ SecretId: 'restore/one', RecoveryWindowInDays: 7 }));
  });

  test('restoring a secret that is not deleted is harmless', async () => {
    await create('restore/live', 'x');
    await sm.send(new RestoreSecretCommand({ SecretId: 'restore/live' }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'restore/live' }))).SecretString, 'x');
  });
});

describe('TagResource / UntagResource', () => {
  const tagsOf = async (name: string): Promise<Tag[] | undefined> => (await describeSecret(name)).Tags;

  test('add, overwrite a key, remove', async () => {
    await create('tags/basic');
    await sm.send(new TagResourceCommand({ SecretId: 'tags/basic', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    assert.deepEqual(await tagsOf('tags/basic'), [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
    await sm.send(new TagResourceCommand({ SecretId: 'tags/basic', Tags: [{ Key: 'a', Value: 'one' }, { Key: 'c', Value: '3' }] }));
    const merged = await tagsOf('tags/basic');
    assert.equal(merged!.length, 3, 'overwriting a key duplicated it');
    assert.deepEqual(
      [...merged!].sort((x, y) => x.Key!.localeCompare(y.Key!)),
      [{ Key: 'a', Value: 'one' }, { Key: 'b', Value: '2' }, { Key: 'c', Value: '3' }],
    );
    await sm.send(new UntagResourceCommand({ SecretId: 'tags/basic', TagKeys: ['b', 'not-there'] }));
    const left = await tagsOf('tags/basic');
    assert.deepEqual([...left!].sort((x, y) => x.Key!.localeCompare(y.Key!)), [{ Key: 'a', Value: 'one' }, { Key: 'c', Value: '3' }]);
    // Tag keys are case-sensitive.
    await sm.send(new UntagResourceCommand({ SecretId: 'tags/basic', TagKeys: ['A'] }));
    assert.equal((await tagsOf('tags/basic'))!.length, 2);
  });

  test('tagging a secret scheduled for deletion is InvalidRequestException', async () => {
    await create('tags/deleted');
    await sm.send(new TagResourceCommand({ SecretId: 'tags/deleted', Tags: [{ Key: 'k', Value: 'v' }] }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'tags/deleted' }));
    await rejects(
      sm.send(new TagResourceCommand({ SecretId: 'tags/deleted', Tags: [{ Key: 'x', Value: 'y' }] })),
      'InvalidRequestException',
      Messages.markedForDeletion,
    );
    await rejects(
      sm.send(new UntagResourceCommand({ SecretId: 'tags/deleted', TagKeys: ['k'] })),
      'InvalidRequestException',
      Messages.markedForDeletion,
    );
    assert.deepEqual(await tagsOf('tags/deleted'), [{ Key: 'k', Value: 'v' }]);
  });

  test('50 tags are fine; a 51st is refused and nothing is applied', async () => {
    await create('tags/limit');
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    await sm.send(new TagResourceCommand({ SecretId: 'tags/limit', Tags: fifty }));
    assert.equal((await tagsOf('tags/limit'))!.length, 50);
    // Overwriting an existing key does not count as a new tag.
    await sm.send(new TagResourceCommand({ SecretId: 'tags/limit', Tags: [{ Key: 'k0', Value: 'changed' }] }));
    const err = await rejects(
      sm.send(new TagResourceCommand({ SecretId: 'tags/limit', Tags: [{ Key: 'k50', Value: 'v50' }, { Key: 'k0', Value: 'again' }] })),
      ['InvalidParameterException', 'ValidationException', 'LimitExceededException'],
    );
    assert.ok(err.message.length > 0);
    const after = await tagsOf('tags/limit');
    assert.equal(after!.length, 50);
    assert.equal(after!.find((t) => t.Key === 'k0')!.Value, 'changed', 'a refused TagResource applied part of its tags');
  });

  test('CreateSecret with 51 tags is refused and creates nothing', async () => {
    const tags = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await rejects(
      sm.send(new CreateSecretCommand({ Name: 'tags/create51', SecretString: 'x', Tags: tags })),
      ['InvalidParameterException', 'ValidationException', 'LimitExceededException'],
    );
    await rejects(describeSecret('tags/create51'), 'ResourceNotFoundException', Messages.secretNotFound);
  });
});
