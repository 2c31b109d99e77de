// End-to-end: GetRandomPassword through the API, and the operations Lockstep does not offer yet
// (rotation, resource policies, replication), which must answer a clean InvalidRequestException.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CancelRotateSecretCommand, CreateSecretCommand, DescribeSecretCommand,
  GetRandomPasswordCommand, ListSecretVersionIdsCommand,
  RemoveRegionsFromReplicationCommand, ReplicateSecretToRegionsCommand, RotateSecretCommand,
  StopReplicationToReplicaCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { rejects, useServer } from './helpers/sdk.js';

let sm: SecretsManagerClient;
useServer((s) => ({ sm } = s));

const LOWER = /[a-z]/;
const UPPER = /[A-Z]/;
const DIGIT = /[0-9]/;
const PUNCT = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;
const ALLOWED = /^[!-~]*$/; // printable ASCII without the space

async function password(input: ConstructorParameters<typeof GetRandomPasswordCommand>[0] = {}): Promise<string> {
  const out = await sm.send(new GetRandomPasswordCommand(input));
  assert.equal(typeof out.RandomPassword, 'string');
  return out.RandomPassword!;
}

describe('GetRandomPassword', () => {
  test('default: 32 printable characters with each of lower, upper, digit and punctuation, and no space', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const p = await password();
      assert.equal(p.length, 32);
      assert.match(p, ALLOWED);
      for (const re of [LOWER, UPPER, DIGIT, PUNCT]) assert.match(p, re);
      seen.add(p);
    }
    assert.equal(seen.size, 20, 'passwords repeat');
  });

  test('PasswordLength is honoured, from 4 up to 4096', async () => {
    for (const n of [4, 17, 100, 4096]) assert.equal((await password({ PasswordLength: n })).length, n);
    assert.equal((await password({ PasswordLength: 1, RequireEachIncludedType: false })).length, 1);
  });

  test('Exclude* switches remove whole types', async () => {
    for (let i = 0; i < 10; i++) {
      const p = await password({ ExcludeNumbers: true, ExcludePunctuation: true, PasswordLength: 64 });
      assert.match(p, /^[A-Za-z]{64}$/);
      assert.match(await password({ ExcludeLowercase: true, ExcludeUppercase: true, PasswordLength: 64 }), /^[0-9!-/:-@[-`{-~]{64}$/);
      assert.match(await password({ ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true, PasswordLength: 64 }), /^[0-9]{64}$/);
    }
  });

  test('ExcludeCharacters removes exactly those characters (regex-special ones included)', async () => {
    const excluded = 'abcABC012!"\\-^]';
    for (let i = 0; i < 10; i++) {
      const p = await password({ PasswordLength: 256, ExcludeCharacters: excluded });
      for (const c of excluded) assert.ok(!p.includes(c), `password contains excluded ${c}`);
      assert.match(p, /d|e|f/); // ranges were not applied: neighbours survive
    }
  });

  test('IncludeSpace admits the space; without it there is none', async () => {
    let spaces = 0;
    for (let i = 0; i < 10; i++) {
      const p = await password({ PasswordLength: 200, IncludeSpace: true });
      if (p.includes(' ')) spaces++;
      assert.ok(!(await password({ PasswordLength: 200 })).includes(' '));
    }
    assert.ok(spaces > 0, 'IncludeSpace never produced a space in 2000 characters');
  });

  test('RequireEachIncludedType with PasswordLength 2 is InvalidParameterException', async () => {
    await rejects(
      sm.send(new GetRandomPasswordCommand({ PasswordLength: 2, RequireEachIncludedType: true })),
      'InvalidParameterException',
      'Password length is too short based on the required types.',
    );
    // Two required types fit in two characters.
    const p = await password({ PasswordLength: 2, ExcludeNumbers: true, ExcludePunctuation: true, RequireEachIncludedType: true });
    assert.match(p, /^(?=.*[a-z])(?=.*[A-Z]).{2}$/);
  });

  test('excluding everything is InvalidParameterException; lengths out of range are ValidationException', async () => {
    await rejects(
      sm.send(new GetRandomPasswordCommand({ ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true })),
      'InvalidParameterException',
    );
    await rejects(sm.send(new GetRandomPasswordCommand({ PasswordLength: 0 })), 'ValidationException');
    await rejects(sm.send(new GetRandomPasswordCommand({ PasswordLength: 4097 })), 'ValidationException');
  });
});

describe('operations not offered (yet)', () => {
  const id = 'unsupported/secret';
  before(async () => {
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: 'x' }));
  });

  const calls: [string, () => Promise<unknown>][] = [
    ['ReplicateSecretToRegions', () => sm.send(new ReplicateSecretToRegionsCommand({ SecretId: id, AddReplicaRegions: [{ Region: 'eu-west-1' }] }))],
    ['RemoveRegionsFromReplication', () => sm.send(new RemoveRegionsFromReplicationCommand({ SecretId: id, RemoveReplicaRegions: ['eu-west-1'] }))],
    ['StopReplicationToReplica', () => sm.send(new StopReplicationToReplicaCommand({ SecretId: id }))],
    ['CreateSecret with AddReplicaRegions', () => sm.send(new CreateSecretCommand({
      Name: 'unsupported/replica', SecretString: 'x', AddReplicaRegions: [{ Region: 'eu-west-1' }],
    }))],
  ];
  for (const [name, call] of calls) {
    test(`${name} answers InvalidRequestException with a clear message`, async () => {
      const err = await rejects(call(), 'InvalidRequestException');
      assert.match(err.message, /not (yet )?(available|supported)|one Region/i);
      assert.doesNotMatch(err.message, /request id|stack|Error:/i);
    });
  }

  test('RotateSecret without a function, and CancelRotateSecret of a secret never rotated, change nothing', async () => {
    await rejects(
      sm.send(new RotateSecretCommand({ SecretId: id, RotationRules: { AutomaticallyAfterDays: 7 } })),
      'InvalidRequestException',
      'No Lambda rotation function ARN is associated with this secret.',
    );
    const c = await sm.send(new CancelRotateSecretCommand({ SecretId: id }));
    assert.equal(c.Name, id);
    assert.equal(c.VersionId, undefined);
  });

  test('the refused operations changed nothing', async () => {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
    assert.ok(!('RotationEnabled' in d));
    assert.ok(!('ReplicationStatus' in d));
    const v = await sm.send(new ListSecretVersionIdsCommand({ SecretId: id, IncludeDeprecated: true }));
    assert.equal(v.Versions!.length, 1, 'RotateSecret left a version behind');
    await rejects(sm.send(new DescribeSecretCommand({ SecretId: 'unsupported/replica' })), 'ResourceNotFoundException');
  });
});
