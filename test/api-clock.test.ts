// End-to-end on an injected clock: purge of old unlabelled versions (AWS keeps 100 versions and never
// removes one younger than 24 hours), and the purge of deleted secrets once their recovery window
// has ended (the purge runs at server start and on a timer; here a restart on the same data directory
// with the clock moved forward triggers it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand,
  ListSecretsCommand, PutSecretValueCommand, RestoreSecretCommand, UpdateSecretVersionStageCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Messages } from '../src/errors.js';
import { pinnedClockClient, rejects } from './helpers/sdk.js';
import { startServer, type TestServer } from './helpers/server.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let offset = 0;
const now = () => Date.now() + offset;
const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-api-clock-'));
let srv: TestServer;
let sm: SecretsManagerClient;

async function start(): Promise<void> {
  srv = await startServer({ now, dataDir });
  sm = pinnedClockClient(srv, () => offset);
}

async function restart(): Promise<void> {
  sm.destroy();
  await srv.stop();
  await start();
}

before(start);
after(async () => {
  sm?.destroy();
  await srv?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function allVersions(name: string): Promise<{ id: string; stages: string[] }[]> {
  const out: { id: string; stages: string[] }[] = [];
  let token: string | undefined;
  do {
    const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, MaxResults: 100, NextToken: token }));
    out.push(...page.Versions!.map((v) => ({ id: v.VersionId!, stages: v.VersionStages ?? [] })));
    token = page.NextToken;
  } while (token);
  return out;
}

describe('version purge', () => {
  test('over 100 versions: the oldest unlabelled ones older than 24 h go; labelled ones stay', async () => {
    const name = 'purge/versions';
    const ids = [(await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }))).VersionId!];
    // Keep the very first version alive with a custom label.
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'KEEP', MoveToVersionId: ids[0] }));
    for (let i = 2; i <= 105; i++) {
      ids.push((await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}` }))).VersionId!);
    }
    // All 105 are younger than 24 hours: none may be purged yet.
    const young = await allVersions(name);
    assert.equal(young.length, 105, 'versions younger than 24 h were purged');

    offset += 25 * HOUR;
    const last = (await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v106' }))).VersionId!;
    ids.push(last);
    const left = await allVersions(name);
    const leftIds = new Set(left.map((v) => v.id));
    const labelled = left.filter((v) => v.stages.length > 0);
    assert.ok(left.length <= 100 + labelled.length, `${left.length} versions kept`);
    assert.ok(left.length < 106, 'nothing was purged');
    assert.ok(leftIds.has(ids[0]), 'the labelled (KEEP) first version was purged');
    assert.deepEqual(left.find((v) => v.id === ids[0])!.stages, ['KEEP']);
    assert.ok(!leftIds.has(ids[1]), 'the oldest unlabelled version survived');
    // Every purged version is older than every kept unlabelled one.
    const firstKept = ids.findIndex((id, i) => i > 0 && leftIds.has(id));
    for (let i = firstKept; i < ids.length; i++) assert.ok(leftIds.has(ids[i]), `version ${i + 1} purged out of order`);
    assert.deepEqual(left.find((v) => v.id === last)!.stages, ['AWSCURRENT']);
    assert.deepEqual(left.find((v) => v.id === ids[104])!.stages, ['AWSPREVIOUS']);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'v106');
    await rejects(sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: ids[1] })), 'ResourceNotFoundException', Messages.versionNotFoundForId(ids[1]));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: ids[0] }))).SecretString, 'v1');
  });

  test('versions younger than 24 hours are never purged, however many there are', async () => {
    const name = 'purge/young';
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v0' }));
    for (let i = 1; i <= 110; i++) {
      if (i % 20 === 0) offset += HOUR; // spread over ~5 hours
      await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}` }));
    }
    assert.equal((await allVersions(name)).length, 111);
  });
});

describe('deleted secrets are purged after their recovery window', () => {
  test('the name stays taken during the window and is free after it', async () => {
    const arnSoon = (await sm.send(new CreateSecretCommand({ Name: 'window/soon', SecretString: 'old' }))).ARN!;
    await sm.send(new CreateSecretCommand({ Name: 'window/later', SecretString: 'later' }));
    await sm.send(new CreateSecretCommand({ Name: 'window/live', SecretString: 'live' }));
    const delSoon = await sm.send(new DeleteSecretCommand({ SecretId: 'window/soon', RecoveryWindowInDays: 7 }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'window/later', RecoveryWindowInDays: 30 }));
    assert.ok(Math.abs(delSoon.DeletionDate!.getTime() - (now() + 7 * DAY)) < 60_000);

    // Six days later (restart: the purge runs at start), still there and still blocking the name.
    offset += 6 * DAY;
    await restart();
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'window/soon' }));
    assert.equal(d.ARN, arnSoon);
    assert.ok(d.DeletedDate instanceof Date);
    await rejects(sm.send(new CreateSecretCommand({ Name: 'window/soon', SecretString: 'new' })), 'InvalidRequestException', Messages.scheduledForDeletion);

    // Eight days after the deletion: window/soon is gone for good, window/later is not.
    offset += 2 * DAY;
    await restart();
    await rejects(sm.send(new DescribeSecretCommand({ SecretId: 'window/soon' })), 'ResourceNotFoundException', Messages.secretNotFound);
    await rejects(sm.send(new RestoreSecretCommand({ SecretId: 'window/soon' })), 'ResourceNotFoundException', Messages.secretNotFound);
    const listed = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['window/'] }] }));
    assert.deepEqual(listed.SecretList!.map((s) => s.Name).sort(), ['window/later', 'window/live']);
    const again = await sm.send(new CreateSecretCommand({ Name: 'window/soon', SecretString: 'new' }));
    assert.notEqual(again.ARN, arnSoon);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'window/soon' }))).SecretString, 'new');

    // window/later can still be restored, and then survives past its window.
    await sm.send(new RestoreSecretCommand({ SecretId: 'window/later' }));
    offset += 31 * DAY;
    await restart();
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'window/later' }))).SecretString, 'later');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'window/live' }))).SecretString, 'live');
  });
});
