// End-to-end: CreateSecret, look-up by name / full ARN / partial ARN, and DescribeSecret's shape.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand,
  PutSecretValueCommand, RestoreSecretCommand, TagResourceCommand, UntagResourceCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Messages } from '../src/errors.js';
import { rejects, useServer, type AwsError } from './helpers/sdk.js';
import { createTestKey } from './helpers/kms.js';
import type { TestServer } from './helpers/server.js';

let sm: SecretsManagerClient;
let srv: TestServer;
useServer((s) => ({ sm, srv } = s));

const ARN_PREFIX = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('CreateSecret', () => {
  test('a string secret: ARN is <prefix><name>-<6 alphanumerics>, VersionId is the token, value reads back', async () => {
    const token = randomUUID();
    const out = await sm.send(new CreateSecretCommand({ Name: 'create/string', SecretString: 'hello', ClientRequestToken: token }));
    assert.match(out.ARN!, new RegExp(`^${escapeRe(ARN_PREFIX)}create/string-[A-Za-z0-9]{6}$`));
    assert.equal(out.Name, 'create/string');
    assert.equal(out.VersionId, token);
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'create/string' }));
    assert.equal(got.SecretString, 'hello');
    assert.equal(got.SecretBinary, undefined);
    assert.equal(got.ARN, out.ARN);
    assert.equal(got.VersionId, token);
    assert.deepEqual(got.VersionStages, ['AWSCURRENT']);
    assert.ok(got.CreatedDate instanceof Date);
  });

  test('a binary secret round-trips byte-exact, including 0x00 and 0xff', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x00, ...Array.from({ length: 256 }, (_, i) => i), 0xff, 0x00]);
    await sm.send(new CreateSecretCommand({ Name: 'create/binary', SecretBinary: bytes }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'create/binary' }));
    assert.equal(got.SecretString, undefined);
    assert.ok(got.SecretBinary);
    assert.ok(Buffer.from(got.SecretBinary).equals(bytes), 'SecretBinary differs from what was stored');
    // A later version may switch kind; each version keeps its own.
    const tail = Buffer.from([0xff, 0xfe, 0x00]);
    await sm.send(new PutSecretValueCommand({ SecretId: 'create/binary', SecretBinary: tail }));
    const again = await sm.send(new GetSecretValueCommand({ SecretId: 'create/binary' }));
    assert.ok(Buffer.from(again.SecretBinary!).equals(tail));
    const prev = await sm.send(new GetSecretValueCommand({ SecretId: 'create/binary', VersionStage: 'AWSPREVIOUS' }));
    assert.ok(Buffer.from(prev.SecretBinary!).equals(bytes));
  });

  test('without a value: no VersionId, no VersionIdsToStages, and no AWSCURRENT value', async () => {
    const out = await sm.send(new CreateSecretCommand({ Name: 'create/empty' }));
    assert.equal(out.VersionId, undefined);
    assert.ok(!('VersionId' in out), 'VersionId key present');
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'create/empty' }));
    assert.ok(!('VersionIdsToStages' in d), 'VersionIdsToStages present for a secret without versions');
    const v = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'create/empty', IncludeDeprecated: true }));
    assert.deepEqual(v.Versions, []);
    await rejects(
      sm.send(new GetSecretValueCommand({ SecretId: 'create/empty' })),
      'ResourceNotFoundException',
      Messages.versionNotFoundForStage('AWSCURRENT'),
    );
  });

  test('SecretString round-trips any Unicode, including NUL, quotes, backslashes and astral characters', async () => {
    const value = 'nul:\u0000 quote:" backslash:\\ newline:\n emoji:\u{1F510} cjk:\u79D8\u5BC6 bom:\uFEFF end';
    await sm.send(new CreateSecretCommand({ Name: 'create/unicode', SecretString: value }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'create/unicode' }))).SecretString, value);
  });

  test('values up to 65536 characters / bytes are stored; one more is ValidationException', async () => {
    const str = 's'.repeat(65536);
    await sm.send(new CreateSecretCommand({ Name: 'create/max-string', SecretString: str }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'create/max-string' }))).SecretString, str);
    const bin = Buffer.alloc(65536, 0xab);
    await sm.send(new CreateSecretCommand({ Name: 'create/max-binary', SecretBinary: bin }));
    assert.ok(Buffer.from((await sm.send(new GetSecretValueCommand({ SecretId: 'create/max-binary' }))).SecretBinary!).equals(bin));
    await rejects(sm.send(new PutSecretValueCommand({ SecretId: 'create/max-string', SecretString: str + 's' })), 'ValidationException');
    await rejects(sm.send(new PutSecretValueCommand({ SecretId: 'create/max-binary', SecretBinary: Buffer.alloc(65537) })), 'ValidationException');
    await rejects(sm.send(new CreateSecretCommand({ Name: 'create/too-big', SecretString: str + 's' })), 'ValidationException');
    await rejects(sm.send(new DescribeSecretCommand({ SecretId: 'create/too-big' })), 'ResourceNotFoundException');
    const v = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'create/max-string', IncludeDeprecated: true }));
    assert.equal(v.Versions!.length, 1);
  });

  test('concurrent CreateSecret of one name: exactly one wins, the others get ResourceExistsException', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => sm.send(new CreateSecretCommand({ Name: 'create/race', SecretString: `v${i}` }))),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, `${won.length} concurrent creates succeeded`);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as AwsError).name, 'ResourceExistsException');
    }
    const v = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'create/race', IncludeDeprecated: true }));
    assert.equal(v.Versions!.length, 1);
  });

  test('Description and KmsKeyId are stored; KmsKeyIds defaults to DefaultEncryptionKey', async () => {
    const key = await createTestKey(srv, 'alias/my-key');
    await sm.send(new CreateSecretCommand({
      Name: 'create/kms', SecretString: 'x', Description: 'my description', KmsKeyId: 'alias/my-key',
    }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'create/kms' }));
    assert.equal(d.Description, 'my description');
    assert.equal(d.KmsKeyId, 'alias/my-key');
    const v = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'create/kms' }));
    assert.deepEqual(v.Versions!.map((x) => x.KmsKeyIds), [[key.Arn]], 'a version lists the ARN of the key that sealed it');

    await sm.send(new CreateSecretCommand({ Name: 'create/kms-default', SecretString: 'x' }));
    const d2 = await sm.send(new DescribeSecretCommand({ SecretId: 'create/kms-default' }));
    assert.ok(!('KmsKeyId' in d2), 'KmsKeyId present although none was given');
    assert.ok(!('Description' in d2), 'Description present although none was given');
    const v2 = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'create/kms-default' }));
    assert.deepEqual(v2.Versions!.map((x) => x.KmsKeyIds), [['DefaultEncryptionKey']]);
  });

  test('Tags given at creation are returned by DescribeSecret in order', async () => {
    const tags = [{ Key: 'team', Value: 'payments' }, { Key: 'env', Value: 'prod' }, { Key: 'empty', Value: '' }];
    await sm.send(new CreateSecretCommand({ Name: 'create/tags', SecretString: 'x', Tags: tags }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'create/tags' }));
    assert.deepEqual(d.Tags, tags);
  });

  test('a duplicate name is ResourceExistsException with AWS wording', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'create/dup', SecretString: 'first' }));
    await rejects(
      sm.send(new CreateSecretCommand({ Name: 'create/dup', SecretString: 'second' })),
      'ResourceExistsException',
      Messages.secretExists('create/dup'),
    );
    await rejects(sm.send(new CreateSecretCommand({ Name: 'create/dup' })), 'ResourceExistsException', Messages.secretExists('create/dup'));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'create/dup' }));
    assert.equal(got.SecretString, 'first');
  });

  test('a name scheduled for deletion cannot be reused: InvalidRequestException', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'create/scheduled', SecretString: 'x' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'create/scheduled' }));
    await rejects(
      sm.send(new CreateSecretCommand({ Name: 'create/scheduled', SecretString: 'y' })),
      'InvalidRequestException',
      Messages.scheduledForDeletion,
    );
  });

  test('both SecretString and SecretBinary is InvalidParameterException, and nothing is created', async () => {
    await rejects(
      sm.send(new CreateSecretCommand({ Name: 'create/both', SecretString: 's', SecretBinary: Buffer.from([1, 2]) })),
      'InvalidParameterException',
    );
    await rejects(sm.send(new DescribeSecretCommand({ SecretId: 'create/both' })), 'ResourceNotFoundException', Messages.secretNotFound);
  });

  for (const name of ['Inv Name', ' Inv Name', ' Inv*Name? ', ' Inv *?!]Name\\-', 'hash#name', 'comma,name', 'tab\tname', 'ünïcode', 'semi;colon']) {
    test(`invalid name ${JSON.stringify(name)} is ValidationException with AWS's message`, async () => {
      await rejects(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' })), 'ValidationException', Messages.invalidName);
    });
  }

  test('an empty name is ValidationException', async () => {
    await rejects(sm.send(new CreateSecretCommand({ Name: '', SecretString: 'x' })), 'ValidationException');
  });

  test('every allowed punctuation character is accepted in a name', async () => {
    const name = 'Valid/_+=.@-Name!';
    const out = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    assert.equal(out.Name, name);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'x');
  });

  test('a 512-character name is accepted; 513 is ValidationException and creates nothing', async () => {
    const ok = 'n'.repeat(511) + '1';
    const out = await sm.send(new CreateSecretCommand({ Name: ok, SecretString: 'long' }));
    assert.equal(out.Name, ok);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: ok }))).SecretString, 'long');
    const tooLong = 'm'.repeat(513);
    await rejects(sm.send(new CreateSecretCommand({ Name: tooLong, SecretString: 'x' })), 'ValidationException');
    await rejects(
      sm.send(new DescribeSecretCommand({ SecretId: 'm'.repeat(512) })),
      'ResourceNotFoundException',
    );
  });
});

describe('look-up by name, ARN and partial ARN', () => {
  const name = 'lookup/app/db';
  let arn = '';
  before(async () => {
    arn = (await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'found' }))).ARN!;
  });

  test('name, full ARN, partial ARN and partial ARN with a trailing hyphen find the same secret', async () => {
    const partial = `${ARN_PREFIX}${name}`;
    assert.equal(arn.length, partial.length + 7);
    for (const id of [name, arn, partial, partial + '-']) {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      assert.equal(got.SecretString, 'found', `GetSecretValue ${id}`);
      assert.equal(got.ARN, arn);
      const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
      assert.equal(d.ARN, arn, `DescribeSecret ${id}`);
      assert.equal(d.Name, name);
    }
  });

  test('an ARN of another region or account, or with another suffix, is ResourceNotFoundException', async () => {
    const suffix = arn.slice(-6);
    const wrongSuffix = suffix === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA';
    const ids = [
      arn.replace(':us-east-1:', ':eu-west-1:'),
      arn.replace(':123456789012:', ':210987654321:'),
      `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}`,
      arn.slice(0, -6) + wrongSuffix,
      `${ARN_PREFIX}lookup/app/d`,
      `${ARN_PREFIX}lookup/app/d-`,
      'lookup/app', // a prefix of the name is not the name
      'lookup/app/db/',
      'LOOKUP/APP/DB', // names are case-sensitive
    ];
    for (const id of ids) {
      await rejects(sm.send(new GetSecretValueCommand({ SecretId: id })), 'ResourceNotFoundException', Messages.secretNotFound);
      await rejects(sm.send(new DescribeSecretCommand({ SecretId: id })), 'ResourceNotFoundException', Messages.secretNotFound);
    }
  });

  test('unknown secrets are ResourceNotFoundException for every read and write', async () => {
    const id = 'lookup/missing';
    await rejects(sm.send(new GetSecretValueCommand({ SecretId: id })), 'ResourceNotFoundException', Messages.secretNotFound);
    await rejects(sm.send(new ListSecretVersionIdsCommand({ SecretId: id })), 'ResourceNotFoundException', Messages.secretNotFound);
    await rejects(sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: 'x' })), 'ResourceNotFoundException', Messages.secretNotFound);
    await rejects(sm.send(new DeleteSecretCommand({ SecretId: id })), 'ResourceNotFoundException', Messages.secretNotFound);
    await rejects(sm.send(new RestoreSecretCommand({ SecretId: id })), 'ResourceNotFoundException', Messages.secretNotFound);
    await rejects(
      sm.send(new TagResourceCommand({ SecretId: id, Tags: [{ Key: 'a', Value: 'b' }] })),
      'ResourceNotFoundException',
      Messages.secretNotFound,
    );
  });
});

describe('DescribeSecret', () => {
  test('a fresh, never tagged, never rotated, never read secret has exactly the fields AWS returns', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'describe/fresh', SecretString: 'x' }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'describe/fresh' }));
    const { $metadata: _m, ...fields } = d;
    assert.deepEqual(Object.keys(fields).sort(), ['ARN', 'CreatedDate', 'LastChangedDate', 'Name', 'VersionIdsToStages']);
    assert.equal(d.ARN, created.ARN);
    assert.deepEqual(d.VersionIdsToStages, { [created.VersionId!]: ['AWSCURRENT'] });
    assert.ok(d.CreatedDate instanceof Date && d.LastChangedDate instanceof Date);
    assert.ok(Math.abs(d.CreatedDate.getTime() - Date.now()) < 60_000, 'CreatedDate is not now');
  });

  test('Tags: absent when never tagged, [] after untagging everything', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'describe/tags', SecretString: 'x' }));
    assert.ok(!('Tags' in (await sm.send(new DescribeSecretCommand({ SecretId: 'describe/tags' })))));
    await sm.send(new TagResourceCommand({ SecretId: 'describe/tags', Tags: [{ Key: 'k1', Value: 'v1' }, { Key: 'k2', Value: 'v2' }] }));
    assert.deepEqual((await sm.send(new DescribeSecretCommand({ SecretId: 'describe/tags' }))).Tags, [
      { Key: 'k1', Value: 'v1' },
      { Key: 'k2', Value: 'v2' },
    ]);
    await sm.send(new UntagResourceCommand({ SecretId: 'describe/tags', TagKeys: ['k1', 'k2'] }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'describe/tags' }));
    assert.ok('Tags' in d, 'Tags key missing after untagging all');
    assert.deepEqual(d.Tags, []);
  });

  test('DeletedDate only while scheduled for deletion; no RotationEnabled for a never-rotated secret', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'describe/deleted', SecretString: 'x' }));
    const before = await sm.send(new DescribeSecretCommand({ SecretId: 'describe/deleted' }));
    assert.ok(!('DeletedDate' in before));
    assert.ok(!('RotationEnabled' in before));
    assert.ok(!('RotationRules' in before));
    assert.ok(!('NextRotationDate' in before));
    const t0 = Date.now();
    const del = await sm.send(new DeleteSecretCommand({ SecretId: 'describe/deleted', RecoveryWindowInDays: 7 }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'describe/deleted' }));
    assert.ok(d.DeletedDate instanceof Date, 'DeletedDate missing on a secret scheduled for deletion');
    assert.ok(d.DeletedDate.getTime() >= t0 - 1000, 'DeletedDate is before the DeleteSecret call');
    assert.ok(d.DeletedDate.getTime() <= del.DeletionDate!.getTime() + 1000, 'DeletedDate is after the DeletionDate');
    assert.ok(!('RotationEnabled' in d));
    assert.equal(Object.keys(d.VersionIdsToStages ?? {}).length, 1, 'VersionIdsToStages must stay while scheduled for deletion');
    await sm.send(new RestoreSecretCommand({ SecretId: 'describe/deleted' }));
    assert.ok(!('DeletedDate' in (await sm.send(new DescribeSecretCommand({ SecretId: 'describe/deleted' })))));
  });
});
