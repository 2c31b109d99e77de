// End-to-end: ListSecrets (filters, sorting, pagination, planned deletion) and BatchGetSecretValue.
// The server runs on an injected clock (real time + an offset the tests move forward); the SDK client
// signs with the same offset so SigV4's clock-skew check keeps passing.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  BatchGetSecretValueCommand, CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, ListSecretsCommand,
  UpdateSecretCommand, type SecretsManagerClient, type Filter, type ListSecretsCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { Messages } from '../src/errors.js';
import { pinnedClockClient, rejects, useServer } from './helpers/sdk.js';

let sm: SecretsManagerClient;
let offset = 0;
useServer((s) => ({ sm } = s), { now: () => Date.now() + offset, client: (srv) => pinnedClockClient(srv, () => offset) });

const DAY = 86_400_000;

/** Names listed for a query (one page of up to 100). */
async function names(input: ListSecretsCommandInput): Promise<string[]> {
  const out = await sm.send(new ListSecretsCommand({ MaxResults: 100, ...input }));
  assert.equal(out.NextToken, undefined, 'unexpected second page');
  return out.SecretList!.map((s) => s.Name!);
}

/** Names matching filters, restricted to a name prefix, in the server's order. */
async function filtered(prefix: string, ...filters: Filter[]): Promise<string[]> {
  return names({ Filters: [{ Key: 'name', Values: [prefix] }, ...filters] });
}

describe('ListSecrets filters', () => {
  before(async () => {
    const make = (Name: string, Description?: string, Tags?: { Key: string; Value: string }[]) =>
      sm.send(new CreateSecretCommand({ Name, Description, Tags, SecretString: 'x' }));
    await make('flt/Alpha', 'Production database credentials', [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'Payments' }]);
    await make('flt/alpha2', 'staging cache', [{ Key: 'env', Value: 'staging' }]);
    await make('flt/beta', undefined, [{ Key: 'Owner', Value: 'alice' }]);
    await make('flt/gamma', 'PRODUCTION api key');
  });
  const sorted = (xs: string[]) => [...xs].sort();

  test('name: prefix match, case-sensitive', async () => {
    assert.deepEqual(sorted(await names({ Filters: [{ Key: 'name', Values: ['flt/'] }] })), ['flt/Alpha', 'flt/alpha2', 'flt/beta', 'flt/gamma']);
    assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['flt/Alpha'] }] }), ['flt/Alpha']);
    assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['flt/alpha'] }] }), ['flt/alpha2']);
    assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['flt/ALPHA'] }] }), []);
    assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['lt/'] }] }), [], 'name matched a non-prefix');
  });

  test('description: prefix match, case-insensitive', async () => {
    assert.deepEqual(sorted(await filtered('flt/', { Key: 'description', Values: ['production'] })), ['flt/Alpha', 'flt/gamma']);
    assert.deepEqual(await filtered('flt/', { Key: 'description', Values: ['STAGING C'] }), ['flt/alpha2']);
    assert.deepEqual(await filtered('flt/', { Key: 'description', Values: ['database'] }), [], 'description matched a non-prefix');
  });

  test('tag-key and tag-value: prefix match, case-sensitive', async () => {
    assert.deepEqual(sorted(await filtered('flt/', { Key: 'tag-key', Values: ['env'] })), ['flt/Alpha', 'flt/alpha2']);
    assert.deepEqual(await filtered('flt/', { Key: 'tag-key', Values: ['Env'] }), []);
    assert.deepEqual(await filtered('flt/', { Key: 'tag-key', Values: ['Own'] }), ['flt/beta']);
    assert.deepEqual(await filtered('flt/', { Key: 'tag-value', Values: ['prod'] }), ['flt/Alpha']);
    assert.deepEqual(await filtered('flt/', { Key: 'tag-value', Values: ['Pay'] }), ['flt/Alpha']);
    assert.deepEqual(await filtered('flt/', { Key: 'tag-value', Values: ['pay'] }), []);
    assert.deepEqual(await filtered('flt/', { Key: 'tag-value', Values: ['alice'] }), ['flt/beta']);
  });

  test('primary-region and owning-service', async () => {
    assert.equal((await filtered('flt/', { Key: 'primary-region', Values: ['us-east-1'] })).length, 4);
    assert.deepEqual(await filtered('flt/', { Key: 'primary-region', Values: ['eu-west-1'] }), []);
    assert.deepEqual(await filtered('flt/', { Key: 'owning-service', Values: ['rds'] }), []);
    assert.equal((await filtered('flt/', { Key: 'owning-service', Values: ['!rds'] })).length, 4);
  });

  test('all: matches words of any attribute, case-insensitive', async () => {
    assert.deepEqual(sorted(await filtered('flt/', { Key: 'all', Values: ['PRODUCTION'] })), ['flt/Alpha', 'flt/gamma']);
    assert.deepEqual(await filtered('flt/', { Key: 'all', Values: ['payments'] }), ['flt/Alpha']);
    assert.deepEqual(await filtered('flt/', { Key: 'all', Values: ['ALICE'] }), ['flt/beta']);
    assert.deepEqual(await filtered('flt/', { Key: 'all', Values: ['gamma'] }), ['flt/gamma']);
    assert.deepEqual(await filtered('flt/', { Key: 'all', Values: ['owner'] }), ['flt/beta']);
    assert.deepEqual(await filtered('flt/', { Key: 'all', Values: ['zzz'] }), []);
  });

  test("'!' negates, several values are OR-ed, several filters AND-ed", async () => {
    assert.deepEqual(sorted(await filtered('flt/', { Key: 'name', Values: ['!flt/alpha'] })), ['flt/Alpha', 'flt/beta', 'flt/gamma']);
    assert.deepEqual(sorted(await filtered('flt/', { Key: 'tag-key', Values: ['!env'] })), ['flt/beta', 'flt/gamma']);
    assert.deepEqual(sorted(await filtered('flt/', { Key: 'description', Values: ['!production'] })), ['flt/alpha2', 'flt/beta']);
    assert.deepEqual(sorted(await names({ Filters: [{ Key: 'name', Values: ['flt/Alpha', 'flt/beta'] }] })), ['flt/Alpha', 'flt/beta']);
    assert.deepEqual(sorted(await filtered('flt/', { Key: 'tag-value', Values: ['staging', 'alice'] })), ['flt/alpha2', 'flt/beta']);
    assert.deepEqual(
      await filtered('flt/', { Key: 'tag-key', Values: ['env'] }, { Key: 'description', Values: ['prod'] }),
      ['flt/Alpha'],
    );
    assert.deepEqual(await filtered('flt/', { Key: 'tag-key', Values: ['Owner'] }, { Key: 'description', Values: ['prod'] }), []);
  });
});

describe('ListSecrets sorting', () => {
  const order = ['sort/c', 'sort/a', 'sort/d', 'sort/b']; // creation order
  before(async () => {
    for (const n of order) {
      offset += 1000;
      await sm.send(new CreateSecretCommand({ Name: n, SecretString: 'x' }));
    }
    for (const n of ['sort/b', 'sort/d', 'sort/a', 'sort/c']) {
      offset += 1000;
      await sm.send(new UpdateSecretCommand({ SecretId: n, Description: 'changed' }));
    }
    for (const n of ['sort/d', 'sort/a', 'sort/c']) {
      offset += DAY;
      await sm.send(new GetSecretValueCommand({ SecretId: n }));
    }
  });
  const list = (SortBy: string, SortOrder?: 'asc' | 'desc') =>
    names({ Filters: [{ Key: 'name', Values: ['sort/'] }], SortBy: SortBy as ListSecretsCommandInput['SortBy'], SortOrder });

  const cases: [string, string[]][] = [
    ['created-date', ['sort/c', 'sort/a', 'sort/d', 'sort/b']],
    ['last-changed-date', ['sort/b', 'sort/d', 'sort/a', 'sort/c']],
    ['last-accessed-date', ['sort/b', 'sort/d', 'sort/a', 'sort/c']], // never accessed first
    ['name', ['sort/a', 'sort/b', 'sort/c', 'sort/d']],
  ];
  for (const [by, asc] of cases) {
    test(`SortBy ${by} asc and desc`, async () => {
      assert.deepEqual(await list(by, 'asc'), asc);
      assert.deepEqual(await list(by, 'desc'), [...asc].reverse());
    });
  }

});

describe('ListSecrets pagination', () => {
  const all: string[] = [];
  before(async () => {
    for (let i = 0; i < 25; i++) {
      const n = `page/${String(i).padStart(2, '0')}`;
      all.push(n);
      await sm.send(new CreateSecretCommand({ Name: n, SecretString: 'x' }));
    }
  });

  async function walk(input: ListSecretsCommandInput, max: number): Promise<{ seen: string[]; pages: number[] }> {
    const seen: string[] = [];
    const pages: number[] = [];
    let token: string | undefined;
    do {
      const out = await sm.send(new ListSecretsCommand({ ...input, MaxResults: max, NextToken: token }));
      pages.push(out.SecretList!.length);
      seen.push(...out.SecretList!.map((s) => s.Name!));
      token = out.NextToken;
    } while (token && pages.length < 20);
    return { seen, pages };
  }

  for (const [by, ord] of [['created-date', 'asc'], ['name', 'desc'], ['last-changed-date', 'desc'], ['last-accessed-date', 'asc']] as const) {
    test(`25 secrets, MaxResults 7, ${by} ${ord}: each exactly once, in order`, async () => {
      const filter = { Filters: [{ Key: 'name' as const, Values: ['page/'] }], SortBy: by, SortOrder: ord };
      const full = await names(filter);
      assert.equal(full.length, 25);
      assert.deepEqual([...full].sort(), all);
      if (by === 'created-date') assert.deepEqual(full, all);
      if (by === 'name') assert.deepEqual(full, [...all].reverse());
      const { seen, pages } = await walk(filter, 7);
      assert.deepEqual(pages, [7, 7, 7, 4]);
      assert.deepEqual(seen, full);
    });
  }

  test('a NextToken keeps working when MaxResults changes between pages', async () => {
    const filter = { Filters: [{ Key: 'name' as const, Values: ['page/'] }], SortBy: 'created-date' as const, SortOrder: 'asc' as const };
    const first = await sm.send(new ListSecretsCommand({ ...filter, MaxResults: 7 }));
    const second = await sm.send(new ListSecretsCommand({ ...filter, MaxResults: 10, NextToken: first.NextToken }));
    assert.deepEqual(second.SecretList!.map((s) => s.Name), all.slice(7, 17));
  });

  test('a NextToken from another query, or garbage, is InvalidNextTokenException', async () => {
    const first = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['page/'] }], MaxResults: 7 }));
    assert.ok(first.NextToken);
    await rejects(
      sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['page/1'] }], MaxResults: 7, NextToken: first.NextToken })),
      'InvalidNextTokenException',
    );
    await rejects(
      sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['page/'] }], SortOrder: 'desc', NextToken: first.NextToken })),
      'InvalidNextTokenException',
    );
    await rejects(sm.send(new ListSecretsCommand({ NextToken: 'garbage' })), 'InvalidNextTokenException');
    await rejects(sm.send(new ListSecretsCommand({ NextToken: first.NextToken!.slice(0, -4) + 'AAAA' })), 'InvalidNextTokenException');
  });

  test('MaxResults 0 and 101 are ValidationException', async () => {
    await rejects(sm.send(new ListSecretsCommand({ MaxResults: 0 })), 'ValidationException');
    await rejects(sm.send(new ListSecretsCommand({ MaxResults: 101 })), 'ValidationException');
  });

  test('a filter value outside the allowed characters is ValidationException', async () => {
    await rejects(sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['page/*'] }] })), 'ValidationException');
  });
});

describe('ListSecrets and planned deletion', () => {
  test('IncludePlannedDeletion shows secrets scheduled for deletion, with DeletedDate', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'planned/live', SecretString: 'x' }));
    await sm.send(new CreateSecretCommand({ Name: 'planned/gone', SecretString: 'x' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'planned/gone' }));
    const filter = [{ Key: 'name' as const, Values: ['planned/'] }];
    assert.deepEqual(await names({ Filters: filter }), ['planned/live']);
    const out = await sm.send(new ListSecretsCommand({ Filters: filter, IncludePlannedDeletion: true, SortBy: 'name', SortOrder: 'desc' }));
    assert.deepEqual(out.SecretList!.map((s) => s.Name), ['planned/live', 'planned/gone']);
    assert.ok(out.SecretList![1].DeletedDate instanceof Date);
    assert.ok(!('DeletedDate' in out.SecretList![0]));
  });

  test('list entries carry SecretVersionsToStages and no values', async () => {
    const out = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['planned/live'] }] }));
    const e = out.SecretList![0] as Record<string, unknown>;
    assert.equal(Object.values(e.SecretVersionsToStages as object).length, 1);
    assert.ok(!('SecretString' in e) && !('SecretBinary' in e));
  });
});

describe('BatchGetSecretValue', () => {
  const arns: Record<string, string> = {};
  before(async () => {
    for (let i = 1; i <= 5; i++) {
      const out = await sm.send(new CreateSecretCommand({
        Name: `batch/${i}`, SecretString: `b${i}`, Tags: [{ Key: 'group', Value: 'batch' }],
      }));
      arns[`batch/${i}`] = out.ARN!;
    }
  });

  test('SecretIdList with existing and missing ids: values and Errors entries', async () => {
    const out = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['batch/1', 'batch/missing', arns['batch/2']] }));
    const values = out.SecretValues!.map((v) => [v.Name, v.SecretString, v.ARN]).sort();
    assert.deepEqual(values, [['batch/1', 'b1', arns['batch/1']], ['batch/2', 'b2', arns['batch/2']]]);
    assert.deepEqual(out.SecretValues!.map((v) => v.VersionStages), [['AWSCURRENT'], ['AWSCURRENT']]);
    assert.deepEqual(out.Errors, [{ SecretId: 'batch/missing', ErrorCode: 'ResourceNotFoundException', Message: Messages.secretNotFound }]);
  });

  test('Filters with MaxResults/NextToken page through every match once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await sm.send(new BatchGetSecretValueCommand({
        Filters: [{ Key: 'tag-key', Values: ['group'] }], MaxResults: 2, NextToken: token,
      }));
      assert.ok(out.SecretValues!.length <= 2);
      seen.push(...out.SecretValues!.map((v) => `${v.Name}=${v.SecretString}`));
      token = out.NextToken;
      pages++;
    } while (token && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), ['batch/1=b1', 'batch/2=b2', 'batch/3=b3', 'batch/4=b4', 'batch/5=b5']);
  });

  test('both SecretIdList and Filters, or neither, is InvalidParameterException', async () => {
    await rejects(
      sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['batch/1'], Filters: [{ Key: 'name', Values: ['batch/'] }] })),
      'InvalidParameterException',
    );
    await rejects(sm.send(new BatchGetSecretValueCommand({})), 'InvalidParameterException');
  });
});
