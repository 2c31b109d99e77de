import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ListQuery, NewSecret, Store } from '../types.js';

/** A secret row with defaults, for the suite. */
export function newSecret(name: string, over: Partial<NewSecret> = {}): NewSecret {
  return {
    arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbC123`,
    name, description: null, kmsKeyId: null, createdMs: 1000, lastChangedMs: 1000, lastAccessedMs: null,
    deletedMs: null, deletionMs: null, rotationEnabled: null, rotationLambdaArn: null, rotationRules: null,
    lastRotatedMs: null, nextRotationMs: null, rotationDueMs: null, owningService: null, primaryRegion: 'us-east-1',
    resourcePolicy: null, tagged: false, ...over,
  };
}

function query(over: Partial<ListQuery> = {}): ListQuery {
  return { filters: [], includePlannedDeletion: false, sortBy: 'created-date', sortOrder: 'asc', limit: 100, after: null, ...over };
}

/** The storage conformance suite: every backend must pass it. `open` gives a fresh, empty store. */
export function storageConformance(backend: string, open: () => Store): void {
  const withStore = (name: string, fn: (s: Store) => Promise<void>) =>
    test(`${backend}: ${name}`, async () => {
      const store = open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  withStore('secrets by name and ARN; updates; cascade delete', async (store) => {
    const id = await store.transaction((tx) => tx.secrets.insertSecret(newSecret('app/db', { description: 'd' })));
    await store.transaction(async (tx) => {
      assert.equal((await tx.secrets.byName('app/db'))?.id, id);
      assert.equal((await tx.secrets.byArn(newSecret('app/db').arn))?.description, 'd');
      await tx.secrets.updateSecret(id, { description: null, rotationEnabled: true, tagged: true });
      const s = await tx.secrets.byName('app/db');
      assert.equal(s?.description, null);
      assert.equal(s?.rotationEnabled, true);
      assert.equal(s?.tagged, true);
      await tx.secrets.insertVersion(id, { versionId: 'v1', createdMs: 1, lastAccessedMs: null, sealed: Buffer.from([1]), kmsKeyIds: ['k'], stages: [] });
      await tx.secrets.setTags(id, [{ Key: 'a', Value: '1' }]);
      await tx.secrets.setLabels(id, new Map([['AWSCURRENT', 'v1']]));
      await tx.secrets.deleteSecret(id);
      assert.equal(await tx.secrets.byName('app/db'), undefined);
      assert.equal(await tx.secrets.version(id, 'v1'), undefined);
    });
  });

  withStore('versions keep insertion order, labels and values', async (store) => {
    await store.transaction(async (tx) => {
      const id = await tx.secrets.insertSecret(newSecret('s'));
      for (const [v, t] of [['zz', 5], ['aa', 6], ['mm', 7]] as const) {
        await tx.secrets.insertVersion(id, { versionId: v, createdMs: t, lastAccessedMs: null, sealed: Buffer.from(v), kmsKeyIds: ['DefaultEncryptionKey'], stages: [] });
      }
      await tx.secrets.setLabels(id, new Map([['AWSCURRENT', 'mm'], ['AWSPREVIOUS', 'aa'], ['b', 'mm'], ['a', 'mm']]));
      const agg = await tx.secrets.aggregate((await tx.secrets.byName('s'))!);
      assert.deepEqual(agg.versions.map((v) => [v.versionId, v.stages]), [['zz', []], ['aa', ['AWSPREVIOUS']], ['mm', ['AWSCURRENT', 'a', 'b']]]);
      assert.equal(agg.versions[0].sealed, null, 'aggregates carry no values');
      const cur = await tx.secrets.versionByStage(id, 'AWSCURRENT');
      assert.equal(cur?.versionId, 'mm');
      assert.deepEqual(cur?.sealed, Buffer.from('mm'));
      assert.equal(await tx.secrets.versionByStage(id, 'nope'), undefined);
      await tx.secrets.touchVersion(id, 'mm', 86_400_000);
      assert.equal((await tx.secrets.version(id, 'mm'))?.lastAccessedMs, 86_400_000);
      assert.equal((await tx.secrets.byName('s'))?.lastAccessedMs, 86_400_000);
      await tx.secrets.deleteVersion(id, 'aa');
      assert.equal(await tx.secrets.versionByStage(id, 'AWSPREVIOUS'), undefined);
    });
  });

  withStore('generation moves on every commit that changed data, and only then', async (store) => {
    const g0 = store.generation;
    await store.read((tx) => tx.secrets.byName('x'));
    assert.equal(store.generation, g0, 'a read does not move it');
    await store.transaction((tx) => tx.secrets.insertSecret(newSecret('g')));
    const g1 = store.generation;
    assert.notEqual(g1, g0);
    await assert.rejects(store.transaction(async () => { throw new Error('no'); }));
    assert.equal(store.generation, g1, 'a rolled-back transaction does not move it');
    await store.transaction(async () => undefined);
    assert.equal(store.generation, g1, 'a transaction that wrote nothing does not move it');
    await store.transaction(async (tx) => {
      await tx.audit.append({ timeMs: 1, record: '{}', prevHash: '0'.repeat(64), hash: '1'.repeat(64) });
    });
    assert.equal(store.generation, g1, 'a commit of audit records only does not move it');
    await store.transaction(async (tx) => {
      await tx.audit.append({ timeMs: 2, record: '{}', prevHash: '1'.repeat(64), hash: '2'.repeat(64) });
      await tx.meta.set('x', 'y');
    });
    assert.notEqual(store.generation, g1, 'a commit of audit records and data moves it');
  });

  withStore('a transaction that throws changes nothing', async (store) => {
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.secrets.insertSecret(newSecret('gone'));
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await store.read((tx) => tx.secrets.byName('gone')), undefined);
  });

  withStore('concurrent transactions do not interleave', async (store) => {
    const id = await store.transaction((tx) => tx.secrets.insertSecret(newSecret('c', { description: '0' })));
    await Promise.all(
      Array.from({ length: 50 }, () =>
        store.transaction(async (tx) => {
          const s = await tx.secrets.byName('c');
          await new Promise((r) => setImmediate(r));
          await tx.secrets.updateSecret(id, { description: String(Number(s!.description) + 1) });
        }),
      ),
    );
    assert.equal((await store.read((tx) => tx.secrets.byName('c')))?.description, '50');
  });

  withStore('list: filters, negation, sorting and keyset pages', async (store) => {
    await store.transaction(async (tx) => {
      const mk = async (name: string, over: Partial<NewSecret>, tags: [string, string][] = []) => {
        const id = await tx.secrets.insertSecret(newSecret(name, over));
        await tx.secrets.setTags(id, tags.map(([Key, Value]) => ({ Key, Value })));
      };
      await mk('prod/db', { createdMs: 1, lastChangedMs: 30, description: 'Main Database' }, [['env', 'prod']]);
      await mk('prod/api', { createdMs: 2, lastChangedMs: 20, lastAccessedMs: 5 }, [['env', 'prod'], ['team', 'web']]);
      await mk('dev/db', { createdMs: 3, lastChangedMs: 10, description: 'dev database' }, [['env', 'dev']]);
      await mk('old', { createdMs: 4, lastChangedMs: 40, deletedMs: 4, deletionMs: 99 });
    });
    const names = async (q: Partial<ListQuery>) => (await store.read((tx) => tx.secrets.list(query(q)))).items.map((a) => a.secret.name);
    assert.deepEqual(await names({}), ['prod/db', 'prod/api', 'dev/db']);
    assert.deepEqual(await names({ includePlannedDeletion: true }), ['prod/db', 'prod/api', 'dev/db', 'old']);
    assert.deepEqual(await names({ filters: [{ key: 'name', values: ['prod/'] }] }), ['prod/db', 'prod/api']);
    assert.deepEqual(await names({ filters: [{ key: 'name', values: ['PROD/'] }] }), []);
    assert.deepEqual(await names({ filters: [{ key: 'name', values: ['!prod/'] }] }), ['dev/db']);
    assert.deepEqual(await names({ filters: [{ key: 'name', values: ['dev', 'prod/a'] }] }), ['prod/api', 'dev/db']);
    assert.deepEqual(await names({ filters: [{ key: 'description', values: ['main'] }] }), ['prod/db']);
    assert.deepEqual(await names({ filters: [{ key: 'tag-key', values: ['te'] }] }), ['prod/api']);
    assert.deepEqual(await names({ filters: [{ key: 'tag-value', values: ['prod'] }, { key: 'name', values: ['!prod/api'] }] }), ['prod/db']);
    assert.deepEqual(await names({ filters: [{ key: 'primary-region', values: ['us-'] }] }), ['prod/db', 'prod/api', 'dev/db']);
    assert.deepEqual(await names({ filters: [{ key: 'owning-service', values: ['x'] }] }), []);
    assert.deepEqual(await names({ filters: [{ key: 'all', values: ['DATABASE'] }] }), ['prod/db', 'dev/db']);
    assert.deepEqual(await names({ filters: [{ key: 'all', values: ['dev database'] }] }), ['dev/db']);
    assert.deepEqual(await names({ filters: [{ key: 'all', values: ['web'] }] }), ['prod/api']);
    assert.deepEqual(await names({ sortBy: 'name' }), ['dev/db', 'prod/api', 'prod/db']);
    assert.deepEqual(await names({ sortBy: 'name', sortOrder: 'desc' }), ['prod/db', 'prod/api', 'dev/db']);
    assert.deepEqual(await names({ sortBy: 'last-changed-date' }), ['dev/db', 'prod/api', 'prod/db']);
    assert.deepEqual(await names({ sortBy: 'last-accessed-date', sortOrder: 'desc' }), ['prod/api', 'dev/db', 'prod/db']);
    // keyset pages cover everything once, in order, in both directions
    for (const sortOrder of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let after: ListQuery['after'] = null;
      do {
        const page = await store.read((tx) => tx.secrets.list(query({ sortBy: 'last-accessed-date', sortOrder, limit: 1, after })));
        seen.push(...page.items.map((a) => a.secret.name));
        after = page.next;
      } while (after);
      assert.deepEqual(seen, await names({ sortBy: 'last-accessed-date', sortOrder }));
    }
  });

  withStore('dueForPurge finds only secrets whose window has ended', async (store) => {
    await store.transaction(async (tx) => {
      await tx.secrets.insertSecret(newSecret('a', { deletedMs: 1, deletionMs: 100 }));
      await tx.secrets.insertSecret(newSecret('b', { deletedMs: 1, deletionMs: 200 }));
      await tx.secrets.insertSecret(newSecret('c'));
      assert.deepEqual((await tx.secrets.dueForPurge(150, 10)).map((s) => s.name), ['a']);
      assert.deepEqual((await tx.secrets.dueForPurge(250, 10)).map((s) => s.name), ['a', 'b']);
    });
  });

  withStore('rotation leases: claim moves the epoch, renew keeps it, a lost lease cannot be renewed', async (store) => {
    await store.transaction(async (tx) => {
      const sid = await tx.secrets.insertSecret(newSecret('lease'));
      const id = await tx.rotation.insertRun({
        secretId: sid, token: 't', functionArn: 'f', kind: 'rotate', state: 'running', step: 'createSecret', attempt: 0,
        nextAttemptMs: 0, deadlineMs: null, leaseOwner: null, leaseUntilMs: null, leaseEpoch: 0, startedMs: 0, finishedMs: null, lastError: null,
      });
      assert.equal(await tx.rotation.claim(id, 'a', 100, 200), true);
      const e1 = (await tx.rotation.run(id))!.leaseEpoch;
      assert.equal(await tx.rotation.claim(id, 'b', 150, 250), false, 'a live lease is not taken');
      assert.equal(await tx.rotation.renew(id, 'a', e1, 400), true);
      assert.equal((await tx.rotation.run(id))!.leaseEpoch, e1, 'renewing keeps the epoch');
      assert.equal((await tx.rotation.run(id))!.leaseUntilMs, 400);
      assert.equal(await tx.rotation.claim(id, 'b', 500, 600), true, 'an expired lease is taken');
      assert.equal(await tx.rotation.renew(id, 'a', e1, 900), false, 'the old owner cannot renew');
      assert.ok((await tx.rotation.run(id))!.leaseEpoch > e1);
    });
  });

  withStore('access keys and meta', async (store) => {
    await store.transaction(async (tx) => {
      await tx.identity.putAccessKey({ accessKeyId: 'K1', sealedSecret: Buffer.from('s'), principal: 'root', createdMs: 1, status: 'Active' });
      assert.deepEqual((await tx.identity.accessKeys()).map((k) => k.accessKeyId), ['K1']);
      await tx.identity.deleteAccessKey('K1');
      assert.deepEqual(await tx.identity.accessKeys(), []);
      await tx.meta.set('x', 'y');
      assert.equal(await tx.meta.get('x'), 'y');
    });
  });

  withStore('named keys and aliases', async (store) => {
    await store.transaction(async (tx) => {
      await tx.keys.insertKey({ keyId: 'k2', description: 'two', enabled: true, sealedMaterial: Buffer.from('m2'), createdMs: 2 });
      await tx.keys.insertKey({ keyId: 'k1', description: '', enabled: true, sealedMaterial: Buffer.from('m1'), createdMs: 1 });
      assert.deepEqual((await tx.keys.keys()).map((k) => k.keyId), ['k1', 'k2'], 'oldest first');
      assert.equal(await tx.keys.setEnabled('k2', false), true);
      assert.equal(await tx.keys.setEnabled('nope', false), false);
      assert.deepEqual(await tx.keys.key('k2'), { keyId: 'k2', description: 'two', enabled: false, sealedMaterial: Buffer.from('m2'), createdMs: 2 });
      await tx.keys.insertAlias({ name: 'alias/b', keyId: 'k1', createdMs: 3 });
      await tx.keys.insertAlias({ name: 'alias/a', keyId: 'k2', createdMs: 4 });
      assert.deepEqual((await tx.keys.aliases()).map((a) => [a.name, a.keyId]), [['alias/a', 'k2'], ['alias/b', 'k1']]);
      assert.equal((await tx.keys.alias('alias/b'))?.keyId, 'k1');
      await assert.rejects(tx.keys.insertAlias({ name: 'alias/b', keyId: 'k2', createdMs: 5 }), 'an alias name is unique');
      assert.equal(await tx.keys.deleteAlias('alias/b'), true);
      assert.equal(await tx.keys.deleteAlias('alias/b'), false);
      assert.equal(await tx.keys.alias('alias/b'), undefined);
    });
  });

  withStore('sealed rows of every kind: keyset pages and compare-and-swap', async (store) => {
    await store.transaction(async (tx) => {
      const id = await tx.secrets.insertSecret(newSecret('sealed'));
      for (const v of ['v3', 'v1', 'v2']) {
        await tx.secrets.insertVersion(id, { versionId: v, createdMs: 1, lastAccessedMs: null, sealed: Buffer.from(v), kmsKeyIds: ['DefaultEncryptionKey'], stages: [] });
      }
      await tx.secrets.insertVersion(id, { versionId: 'placeholder', createdMs: 1, lastAccessedMs: null, sealed: null, kmsKeyIds: ['DefaultEncryptionKey'], stages: [] });
      await tx.identity.putAccessKey({ accessKeyId: 'K1', sealedSecret: Buffer.from('s'), principal: 'root', createdMs: 1, status: 'Active' });
      await tx.keys.insertKey({ keyId: 'k1', description: '', enabled: true, sealedMaterial: Buffer.from('m1'), createdMs: 1 });
    });
    const arn = newSecret('sealed').arn;
    const page1 = await store.read((tx) => tx.keys.sealedRows('version', null, 2));
    assert.deepEqual(page1.map((r) => [r.owner, r.part, r.sealed.toString()]), [[arn, 'v1', 'v1'], [arn, 'v2', 'v2']]);
    const page2 = await store.read((tx) => tx.keys.sealedRows('version', page1[1].cursor, 2));
    assert.deepEqual(page2.map((r) => r.part), ['v3'], 'placeholders (no value) are not listed');
    assert.deepEqual(await store.read((tx) => tx.keys.sealedRows('version', page2[0].cursor, 2)), []);
    await store.transaction(async (tx) => {
      assert.equal(await tx.keys.replaceSealed(page1[0], Buffer.from('new')), true);
      assert.equal(await tx.keys.replaceSealed(page1[0], Buffer.from('again')), false, 'the row no longer holds the bytes it was read with');
      const s = (await tx.secrets.byName('sealed'))!;
      assert.deepEqual((await tx.secrets.version(s.id, 'v1'))?.sealed, Buffer.from('new'));
      await tx.secrets.resealVersion(s.id, 'v2', Buffer.from('resealed'), ['arn:key']);
      const v2 = (await tx.secrets.version(s.id, 'v2'))!;
      assert.deepEqual([v2.sealed, v2.kmsKeyIds], [Buffer.from('resealed'), ['arn:key']]);
      await tx.secrets.fillVersion(s.id, 'placeholder', Buffer.from('filled'), ['arn:key']);
      const p = (await tx.secrets.version(s.id, 'placeholder'))!;
      assert.deepEqual([p.sealed, p.kmsKeyIds], [Buffer.from('filled'), ['arn:key']]);
    });
    for (const kind of ['access-key', 'kms-key'] as const) {
      const [row] = await store.read((tx) => tx.keys.sealedRows(kind, null, 10));
      assert.ok(row, kind);
      assert.equal(await store.transaction((tx) => tx.keys.replaceSealed(row, Buffer.from('x'))), true, kind);
      assert.deepEqual((await store.read((tx) => tx.keys.sealedRows(kind, null, 10)))[0].sealed, Buffer.from('x'), kind);
    }
    assert.deepEqual(await store.read((tx) => tx.keys.sealedRows('function', null, 10)), []);
  });
}
