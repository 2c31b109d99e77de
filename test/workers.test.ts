import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
  UpdateSecretVersionStageCommand, DescribeSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { cleanupProcesses, spawnServer } from './helpers/process.js';

after(cleanupProcesses);

/** A client that opens a new connection for every request, so the workers take turns answering. */
function freshConnectionClient(url: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
  return new SecretsManagerClient({
    endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: false }) }),
  });
}

test('serve --workers 2: every worker answers with the newest value right after a write by another', async () => {
  const s = await spawnServer({ args: ['--workers', '2'] });
  assert.equal(s.listenLine.workers, 2);
  const c = freshConnectionClient(s.url, s.readCredentials());
  try {
    await c.send(new CreateSecretCommand({ Name: 'w/one', SecretString: 'v0' }));
    // Warm both workers' read caches on the old value first.
    for (let i = 0; i < 6; i++) assert.equal((await c.send(new GetSecretValueCommand({ SecretId: 'w/one' }))).SecretString, 'v0');
    for (let round = 1; round <= 15; round++) {
      const put = await c.send(new PutSecretValueCommand({ SecretId: 'w/one', SecretString: `v${round}` }));
      for (let i = 0; i < 4; i++) {
        const got = await c.send(new GetSecretValueCommand({ SecretId: 'w/one' }));
        assert.equal(got.SecretString, `v${round}`, `round ${round}, read ${i}: a worker answered a stale value`);
        assert.equal(got.VersionId, put.VersionId);
      }
    }
    // Label moves made through one worker are seen by the other at once, too.
    const before = await c.send(new DescribeSecretCommand({ SecretId: 'w/one' }));
    const previous = Object.entries(before.VersionIdsToStages!).find(([, st]) => st.includes('AWSPREVIOUS'))![0];
    const current = Object.entries(before.VersionIdsToStages!).find(([, st]) => st.includes('AWSCURRENT'))![0];
    await c.send(new UpdateSecretVersionStageCommand({
      SecretId: 'w/one', VersionStage: 'AWSCURRENT', MoveToVersionId: previous, RemoveFromVersionId: current,
    }));
    for (let i = 0; i < 6; i++) {
      assert.equal((await c.send(new GetSecretValueCommand({ SecretId: 'w/one' }))).SecretString, 'v14');
    }
  } finally {
    c.destroy();
  }
  assert.deepEqual(await s.stop(), { code: 0, signal: null });
});

test('serve --workers 2: concurrent writes through both workers all land, one AWSCURRENT', async () => {
  const s = await spawnServer({ args: ['--workers', '2'] });
  const c = freshConnectionClient(s.url, s.readCredentials());
  try {
    await c.send(new CreateSecretCommand({ Name: 'w/many', SecretString: 'start' }));
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, i) => c.send(new PutSecretValueCommand({ SecretId: 'w/many', SecretString: `p${i}` }))),
    );
    const d = await c.send(new DescribeSecretCommand({ SecretId: 'w/many' }));
    const stages = Object.values(d.VersionIdsToStages!).flat().sort();
    assert.deepEqual(stages, ['AWSCURRENT', 'AWSPREVIOUS']);
    const cur = Object.entries(d.VersionIdsToStages!).find(([, st]) => st.includes('AWSCURRENT'))![0];
    assert.ok(ids.some((r) => r.VersionId === cur));
  } finally {
    c.destroy();
  }
  assert.deepEqual(await s.stop(), { code: 0, signal: null });
});
