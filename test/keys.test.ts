// End-to-end: named encryption keys and aliases (`lockstep keys`), KmsKeyId on CreateSecret and
// UpdateSecret, disabling keys, and the online rotation of the master key, against a real
// `lockstep serve` process and its data directory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  BatchGetSecretValueCommand, CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand,
  PutSecretValueCommand, UpdateSecretCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { childEnv, cleanupProcesses, MAIN, ROOT, runCli, spawnServer, tempDir, type ServerProcess } from './helpers/process.js';
import { rejects } from './helpers/sdk.js';

const KMS = 'arn:aws:kms:us-east-1:123456789012:';
const canary = `canary-${randomUUID()}`;
const dataDir = tempDir('lockstep-keys-');
let srv: ServerProcess;
let sm: SecretsManagerClient;

interface KeyMetadata {
  KeyId: string;
  Arn: string;
  Enabled: boolean;
  KeyState: string;
  Description: string;
  Aliases: string[];
}

let appKey: KeyMetadata; // alias/app
let otherKey: KeyMetadata; // alias/other

before(async () => {
  srv = await spawnServer({ dataDir });
  sm = srv.client();
});
after(async () => {
  await srv?.stop();
  await cleanupProcesses();
});

/** Runs `lockstep keys <args> --data-dir <dataDir>`; returns its parsed JSON output (or raw text). */
function keys(args: string[], opts: { env?: Record<string, string | undefined>; ok?: boolean } = {}) {
  const r = runCli(['keys', ...args, '--data-dir', dataDir], { env: opts.env, timeoutMs: 60_000 });
  if (opts.ok !== false) assert.equal(r.code, 0, `lockstep keys ${args.join(' ')} failed:\n${r.stderr}`);
  let json: any;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** The database, read-only, while the server has it open (WAL). */
function db<T>(fn: (d: Database.Database) => T): T {
  const d = new Database(join(dataDir, 'lockstep.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return fn(d);
  } finally {
    d.close();
  }
}

/** The key id an envelope names in its header. */
function kekOf(sealed: Buffer): string {
  return sealed.toString('utf8', 2, 2 + sealed[1]);
}

/** A version row as stored: the key id its envelope names, and the KmsKeyIds recorded. */
function versionRow(secretName: string, versionId: string): { kek: string; kmsKeyIds: string[] } {
  return db((d) => {
    const r = d
      .prepare('SELECT v.sealed, v.kms_key_ids FROM versions v JOIN secrets s ON s.id = v.secret_id WHERE s.name = ? AND v.version_id = ?')
      .get(secretName, versionId) as { sealed: Buffer; kms_key_ids: string };
    return { kek: kekOf(r.sealed), kmsKeyIds: JSON.parse(r.kms_key_ids) };
  });
}

/** The master-key ids every value under the default key (and every key's material, access key, function) is sealed with. */
function masterKeyIdsInUse(): Set<string> {
  return db((d) => {
    const ids = new Set<string>();
    const blobs = [
      ...(d.prepare('SELECT sealed AS b FROM versions WHERE sealed IS NOT NULL').all() as { b: Buffer }[]),
      ...(d.prepare('SELECT sealed_material AS b FROM kms_keys').all() as { b: Buffer }[]),
      ...(d.prepare('SELECT sealed_secret AS b FROM access_keys').all() as { b: Buffer }[]),
    ];
    for (const { b } of blobs) if (!kekOf(b).startsWith('key/')) ids.add(kekOf(b));
    return ids;
  });
}

function meta(key: string): string | undefined {
  return db((d) => (d.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value);
}

function masterKeyLines(): string[] {
  return readFileSync(join(dataDir, 'master.key'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
}

const values = new Map<string, string>(); // secret name -> its AWSCURRENT value

async function create(name: string, value: string, kmsKeyId?: string): Promise<string> {
  const out = await sm.send(new CreateSecretCommand({ Name: name, SecretString: value, KmsKeyId: kmsKeyId }));
  values.set(name, value);
  return out.VersionId!;
}

async function current(name: string): Promise<string | undefined> {
  return (await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
}

test('keys and aliases are made with the CLI while the server runs', () => {
  appKey = keys(['create', '--description', 'the app key', '--alias', 'alias/app']).json.KeyMetadata;
  assert.match(appKey.KeyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(appKey.Arn, `${KMS}key/${appKey.KeyId}`);
  assert.deepEqual([appKey.Enabled, appKey.KeyState, appKey.Description, appKey.Aliases], [true, 'Enabled', 'the app key', ['alias/app']]);
  otherKey = keys(['create']).json.KeyMetadata;
  const alias = keys(['alias', 'create', 'alias/other', otherKey.Arn]).json;
  assert.deepEqual(alias, { AliasName: 'alias/other', AliasArn: `${KMS}alias/other`, TargetKeyId: otherKey.KeyId });
  assert.deepEqual(keys(['alias', 'list']).json.Aliases, [
    { AliasName: 'alias/aws/secretsmanager', AliasArn: `${KMS}alias/aws/secretsmanager` },
    { AliasName: 'alias/app', AliasArn: `${KMS}alias/app`, TargetKeyId: appKey.KeyId },
    { AliasName: 'alias/other', AliasArn: `${KMS}alias/other`, TargetKeyId: otherKey.KeyId },
  ]);
  const listed = keys(['list']).json.Keys as KeyMetadata[];
  assert.deepEqual(listed.map((k) => [k.KeyId, k.Aliases]), [[appKey.KeyId, ['alias/app']], [otherKey.KeyId, ['alias/other']]]);
  assert.equal(keys(['describe', `${KMS}alias/other`]).json.KeyMetadata.KeyId, otherKey.KeyId);

  const refusals: [string[], RegExp][] = [
    [['alias', 'create', 'alias/app', otherKey.KeyId], /An alias with the name arn:aws:kms:us-east-1:123456789012:alias\/app already exists/],
    [['alias', 'create', 'alias/aws/mine', otherKey.KeyId], /reserved/],
    [['alias', 'create', 'alias/x', 'alias/app'], /is an alias: give the key ID or key ARN/],
    [['alias', 'create', 'alias/x', '00000000-0000-4000-8000-000000000000'], /Key 'arn:aws:kms:us-east-1:123456789012:key\/00000000-0000-4000-8000-000000000000' does not exist/],
    [['alias', 'delete', 'alias/nope'], /Alias arn:aws:kms:us-east-1:123456789012:alias\/nope is not found\./],
    [['disable', 'alias/aws/secretsmanager'], /is the default key, which is the master key itself/],
    [['disable', 'not-a-key'], /Invalid keyId not-a-key/],
  ];
  for (const [args, message] of refusals) {
    const r = keys(args, { ok: false });
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('CreateSecret takes KmsKeyId as key id, key ARN, alias name or alias ARN; DescribeSecret shows it as given', async () => {
  const forms = [appKey.KeyId, appKey.Arn, 'alias/app', `${KMS}alias/app`];
  for (const [i, form] of forms.entries()) {
    const name = `named/${i}`;
    const versionId = await create(name, `value-${i}-${canary}`, form);
    assert.equal(await current(name), `value-${i}-${canary}`);
    const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(d.KmsKeyId, form, 'DescribeSecret shows the KmsKeyId as it was given');
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    assert.deepEqual(versions.Versions?.map((v) => v.KmsKeyIds), [[appKey.Arn]], 'a version lists the ARN of the key that sealed it');
    assert.deepEqual(versionRow(name, versionId), { kek: `key/${appKey.KeyId}`, kmsKeyIds: [appKey.Arn] });
  }
  for (const [name, kmsKeyId] of [['plain/none', undefined], ['plain/default-alias', 'alias/aws/secretsmanager']] as const) {
    const versionId = await create(name, `default ${canary}`, kmsKeyId);
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: name }))).KmsKeyId, undefined, 'the default key is not shown');
    const row = versionRow(name, versionId);
    assert.match(row.kek, /^local-[0-9a-f]{16}$/);
    assert.deepEqual(row.kmsKeyIds, ['DefaultEncryptionKey']);
  }
  await rejects(sm.send(new CreateSecretCommand({ Name: 'bad/1', SecretString: 'x', KmsKeyId: '00000000-0000-4000-8000-000000000000' })), 'ResourceNotFoundException',
    "Secrets Manager can't find the specified KMS key: Key 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000' does not exist");
  await rejects(sm.send(new CreateSecretCommand({ Name: 'bad/2', SecretString: 'x', KmsKeyId: 'alias/nope' })), 'ResourceNotFoundException',
    "Secrets Manager can't find the specified KMS key: Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found.");
  await rejects(sm.send(new CreateSecretCommand({ Name: 'bad/3', SecretString: 'x', KmsKeyId: `arn:aws:kms:eu-west-1:123456789012:key/${appKey.KeyId}` })),
    'ResourceNotFoundException', /does not exist$/);
  await rejects(sm.send(new CreateSecretCommand({ Name: 'bad/4', SecretString: 'x', KmsKeyId: 'my-key' })), 'InvalidParameterException', /^Invalid KmsKeyId "my-key"/);
  await rejects(sm.send(new DescribeSecretCommand({ SecretId: 'bad/1' })), 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
});

test('UpdateSecret with a new KmsKeyId re-seals AWSCURRENT, AWSPENDING and AWSPREVIOUS; other versions keep their key', async () => {
  const name = 'reseal/app';
  const v: string[] = [await create(name, 'one')];
  for (const [text, stages] of [['two', undefined], ['three', undefined], ['pending', ['AWSPENDING']], ['custom', ['CUSTOM']]] as const) {
    const out = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: text, VersionStages: stages ? [...stages] : undefined }));
    v.push(out.VersionId!);
  }
  // v[0] unlabelled, v[1] AWSPREVIOUS, v[2] AWSCURRENT, v[3] AWSPENDING, v[4] CUSTOM
  const defaultRow = versionRow(name, v[0]);
  await sm.send(new UpdateSecretCommand({ SecretId: name, KmsKeyId: otherKey.Arn }));
  assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: name }))).KmsKeyId, otherKey.Arn);
  const under = (key: KeyMetadata) => ({ kek: `key/${key.KeyId}`, kmsKeyIds: [key.Arn] });
  for (const id of [v[1], v[2], v[3]]) assert.deepEqual(versionRow(name, id), under(otherKey), `labelled version ${id}`);
  for (const id of [v[0], v[4]]) assert.deepEqual(versionRow(name, id), defaultRow, `version ${id} stays under the default key`);
  const read = async (o: { VersionStage?: string; VersionId?: string }) => (await sm.send(new GetSecretValueCommand({ SecretId: name, ...o }))).SecretString;
  assert.deepEqual(
    [await read({}), await read({ VersionStage: 'AWSPREVIOUS' }), await read({ VersionStage: 'AWSPENDING' }), await read({ VersionStage: 'CUSTOM' }), await read({ VersionId: v[0] })],
    ['three', 'two', 'pending', 'custom', 'one'],
  );

  // With a value: the new version takes AWSCURRENT under the new key, and the labels' versions follow.
  const out = await sm.send(new UpdateSecretCommand({ SecretId: name, KmsKeyId: 'alias/app', SecretString: 'four' }));
  assert.deepEqual(versionRow(name, out.VersionId!), under(appKey));
  for (const id of [v[2], v[3]]) assert.deepEqual(versionRow(name, id), under(appKey), `labelled version ${id}`);
  assert.deepEqual(versionRow(name, v[1]), under(otherKey), 'v[1] lost AWSPREVIOUS before the re-seal and keeps its key');
  assert.deepEqual([await read({}), await read({ VersionStage: 'AWSPREVIOUS' }), await read({ VersionStage: 'AWSPENDING' })], ['four', 'three', 'pending']);
  values.set(name, 'four');

  // An empty KmsKeyId goes back to the default key.
  await sm.send(new UpdateSecretCommand({ SecretId: name, KmsKeyId: '' }));
  assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: name }))).KmsKeyId, undefined);
  for (const id of [out.VersionId!, v[2], v[3]]) {
    const row = versionRow(name, id);
    assert.match(row.kek, /^local-/);
    assert.deepEqual(row.kmsKeyIds, ['DefaultEncryptionKey']);
  }
  assert.equal(await read({}), 'four');
  await rejects(sm.send(new UpdateSecretCommand({ SecretId: name, KmsKeyId: 'alias/nope' })), 'ResourceNotFoundException', /alias\/nope is not found\.$/);
});

test('a disabled key makes its values unreadable with AWS\'s error; enabling it restores them', async () => {
  const disabled = new RegExp(
    `^Secrets Manager can't decrypt the secret value: ${appKey.Arn} is disabled\\. \\(Service: AWSKMS; Status Code: 400; ` +
      'Error Code: DisabledException; Request ID: [0-9a-f-]{36}; Proxy: null\\)$',
  );
  assert.equal(await current('named/0'), `value-0-${canary}`); // cached by the server
  const meta = keys(['disable', 'alias/app']).json.KeyMetadata;
  assert.deepEqual([meta.Enabled, meta.KeyState], [false, 'Disabled']);
  await rejects(sm.send(new GetSecretValueCommand({ SecretId: 'named/0' })), 'DecryptionFailure', disabled);
  await rejects(sm.send(new GetSecretValueCommand({ SecretId: 'named/2' })), 'DecryptionFailure', disabled);
  const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['named/1', 'plain/none'] }));
  assert.deepEqual(batch.SecretValues?.map((s) => s.Name), ['plain/none']);
  assert.equal(batch.Errors?.[0].ErrorCode, 'DecryptionFailure');
  await rejects(sm.send(new PutSecretValueCommand({ SecretId: 'named/3', SecretString: 'x' })), 'EncryptionFailure',
    new RegExp(`^Secrets Manager can't encrypt the secret value: ${appKey.Arn} is disabled\\.`));
  await rejects(sm.send(new CreateSecretCommand({ Name: 'named/new', SecretString: 'x', KmsKeyId: 'alias/app' })), 'EncryptionFailure', /is disabled\./);
  assert.equal(await current('plain/none'), `default ${canary}`, 'other keys are not affected');

  // Moving a secret off a disabled key cannot re-encrypt its versions (AWS leaves them as they are);
  // a new value under the new key is readable.
  keys(['enable', appKey.KeyId]);
  await create('named/moving', 'before', 'alias/app');
  keys(['disable', appKey.KeyId]);
  await sm.send(new UpdateSecretCommand({ SecretId: 'named/moving', KmsKeyId: 'alias/other' }));
  await rejects(sm.send(new GetSecretValueCommand({ SecretId: 'named/moving' })), 'DecryptionFailure', disabled);
  await sm.send(new PutSecretValueCommand({ SecretId: 'named/moving', SecretString: 'after' }));
  assert.equal(await current('named/moving'), 'after');
  values.set('named/moving', 'after');

  assert.equal(keys(['enable', `${KMS}alias/app`]).json.KeyMetadata.Enabled, true);
  for (let i = 0; i < 4; i++) assert.equal(await current(`named/${i}`), `value-${i}-${canary}`);
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'named/moving', VersionStage: 'AWSPREVIOUS' }))).SecretString, 'before');
});

/** Reads every known secret in `loops` parallel loops until stopped; counts reads and failures. */
function readLoop(loops = 4) {
  let stop = false;
  const failures: string[] = [];
  let reads = 0;
  const names = [...values.keys()];
  const run = async (offset: number) => {
    for (let i = offset; !stop; i++) {
      const name = names[i % names.length];
      try {
        const got = await current(name);
        if (got !== values.get(name)) failures.push(`${name}: read ${got}`);
        reads++;
      } catch (e) {
        failures.push(`${name}: ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
  };
  const done = Promise.all(Array.from({ length: loops }, (_, i) => run(i * 7)));
  return {
    failures,
    reads: () => reads,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** Runs `lockstep keys rotate` as a child process, collecting its output. */
function startRotate(args: string[] = []) {
  const child = spawn(process.execPath, [MAIN, 'keys', 'rotate', '--data-dir', dataDir, ...args], { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, exited, out: () => out, err: () => err };
}

test('the master key rotates online: the server serves every read during and after, and writes under the new key', async () => {
  for (let i = 0; i < 120; i++) await create(`bulk/${i}`, `bulk value ${i} ${randomBytes(4).toString('hex')}`);
  const before = masterKeyLines();
  assert.equal(before.length, 1);
  const loop = readLoop();
  await new Promise((r) => setTimeout(r, 200));
  const rotation = startRotate(['--batch', '10', '--throttle-ms', '5']);
  const st = await rotation.exited;
  assert.deepEqual(st, { code: 0, signal: null }, rotation.out() + rotation.err());
  const target = /everything is sealed under (local-[0-9a-f]{16})/.exec(rotation.out())?.[1];
  assert.ok(target, rotation.out());
  // the server writes under the new key from now on, and keeps reading
  await sm.send(new PutSecretValueCommand({ SecretId: 'bulk/0', SecretString: 'after rotation' }));
  values.set('bulk/0', 'after rotation');
  await new Promise((r) => setTimeout(r, 300));
  await loop.stop();
  assert.deepEqual(loop.failures, [], 'no read failed');
  assert.ok(loop.reads() > 50, `only ${loop.reads()} reads`);
  assert.deepEqual([...masterKeyIdsInUse()], [target], 'everything under the master key is under the new key');
  const lines = masterKeyLines();
  assert.deepEqual([lines.length, lines[1]], [2, before[0]], 'the old key stays in master.key, retired');
  assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
  assert.deepEqual([meta('kek_id'), meta('kek_rotation')], [target, '']);
  assert.match(rotation.out(), /re-wrapped 2 named keys/);
  assert.match(rotation.out(), /re-wrapped \d+ secret versions/);
});

test('a rotation killed mid-way leaves everything readable; running it again finishes it', async () => {
  const firstTarget = meta('kek_id')!;
  const loop = readLoop(2);
  const rotation = startRotate(['--batch', '1', '--throttle-ms', '15']);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no progress:\n${rotation.out()}\n${rotation.err()}`)), 30_000);
    const check = () => {
      if (/re-wrapped 20 secret versions/.test(rotation.out())) {
        clearTimeout(timer);
        rotation.child.kill('SIGKILL');
        resolve();
      }
    };
    rotation.child.stdout.on('data', check);
  });
  assert.equal((await rotation.exited).signal, 'SIGKILL');
  const target = /new master key (local-[0-9a-f]{16}) is active/.exec(rotation.out())?.[1];
  assert.ok(target && target !== firstTarget);
  assert.deepEqual(masterKeyIdsInUse(), new Set([firstTarget, target]), 'half-way: values under both keys');
  assert.equal(JSON.parse(meta('kek_rotation')!).target, target, 'the rotation is recorded as under way');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(loop.failures, [], 'the server reads everything half-way');

  const again = startRotate(['--batch', '50']);
  assert.deepEqual(await again.exited, { code: 0, signal: null }, again.out() + again.err());
  assert.match(again.out(), new RegExp(`^resuming the rotation to master key ${target}$`, 'm'));
  assert.match(again.out(), new RegExp(`everything is sealed under ${target}`));
  await loop.stop();
  assert.deepEqual(loop.failures, []);
  assert.deepEqual([...masterKeyIdsInUse()], [target]);
  assert.equal(masterKeyLines().length, 3, 'one new key in all: the second run did not make another');
  assert.deepEqual([meta('kek_id'), meta('kek_rotation')], [target, '']);
});

test('after a restart the server reads everything, and the CLI sees the rotated keys', async () => {
  assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  srv = await spawnServer({ dataDir });
  sm = srv.client();
  for (const [name, value] of values) assert.equal(await current(name), value, name);
  assert.equal(keys(['describe', 'alias/app']).json.KeyMetadata.KeyId, appKey.KeyId);
  // a key made after the rotation works too
  const late = keys(['create', '--alias', 'alias/late']).json.KeyMetadata as KeyMetadata;
  const lateVersion = await create('named/late', `late ${canary}`, 'alias/late');
  assert.equal(await current('named/late'), `late ${canary}`);
  assert.equal(versionRow('named/late', lateVersion).kek, `key/${late.KeyId}`);
});

test('canary: no secret value is in any file of the data directory, in clear or in base64', async () => {
  assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  const needles = [canary, Buffer.from(canary).toString('base64'), 'value-0-', 'bulk value 1 '];
  for (const file of readdirSync(dataDir)) {
    const p = join(dataDir, file);
    if (!statSync(p).isFile()) continue;
    const bytes = readFileSync(p);
    for (const n of needles) assert.equal(bytes.includes(Buffer.from(n)), false, `${file} holds ${n}`);
  }
  srv = await spawnServer({ dataDir }); // for the after hook, and to show it still starts
});

test('with LOCKSTEP_MASTER_KEY, rotation needs the new key first in the variable and is done offline', async () => {
  const dir = tempDir('lockstep-keys-env-');
  const current = randomBytes(32).toString('base64');
  const s = await spawnServer({ dataDir: dir, env: { LOCKSTEP_MASTER_KEY: current } });
  const key = JSON.parse(runCli(['keys', 'create', '--alias', 'alias/env', '--data-dir', dir], { env: { LOCKSTEP_MASTER_KEY: current } }).stdout).KeyMetadata;
  const c = s.client();
  await c.send(new CreateSecretCommand({ Name: 'env/default', SecretString: 'default' }));
  await c.send(new CreateSecretCommand({ Name: 'env/named', SecretString: 'named', KmsKeyId: key.KeyId }));
  const refused = runCli(['keys', 'rotate', '--data-dir', dir], { env: { LOCKSTEP_MASTER_KEY: current } });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /LOCKSTEP_MASTER_KEY, which Lockstep cannot change/);
  assert.deepEqual(await s.stop(), { code: 0, signal: null });
  const both = `${randomBytes(32).toString('base64')},${current}`;
  const r = runCli(['keys', 'rotate', '--data-dir', dir], { env: { LOCKSTEP_MASTER_KEY: both } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /everything is sealed under local-/);
  const t = await spawnServer({ dataDir: dir, env: { LOCKSTEP_MASTER_KEY: both.split(',')[0] } });
  const tc = t.client();
  assert.equal((await tc.send(new GetSecretValueCommand({ SecretId: 'env/default' }))).SecretString, 'default');
  assert.equal((await tc.send(new GetSecretValueCommand({ SecretId: 'env/named' }))).SecretString, 'named');
  assert.deepEqual(await t.stop(), { code: 0, signal: null });
});
