/*
 * Conformance against responses recorded from real AWS Secrets Manager.
 *
 * Source: shared/reference/aws-recorded/secretsmanager.snapshot.json (LocalStack's test-suite snapshots, Apache-2.0),
 * 55 scenarios. Each covered scenario below replays the sequence of calls that LocalStack's
 * tests/aws/services/secretsmanager/test_secretsmanager.py made when the snapshot was taken (for parametrised or
 * since-changed tests, the version of the test that produced the recorded keys), against a real Lockstep server,
 * and compares every recorded response with Lockstep's after normalising both sides the same way
 * (test/recorded/normalise.ts): ARNs and version ids become tokens numbered by first appearance, dates become
 * `datetime`, secret names become `<name:i>`, response metadata is dropped. Comparison is exact (deepStrictEqual):
 * fields present/absent, empty lists, staging-label order, version order, KmsKeyIds, LastAccessedDate presence.
 * Errors are compared as {code, message, HTTP status}. Expected values are read from the snapshot at run time.
 *
 * Left out (belong to later work on rotation, Lambda and resource policies):
 *  - test_rotate_secret_with_lambda_success[True], test_rotate_secret_with_lambda_success[None],
 *    test_rotate_secret_multiple_times_with_lambda_success: rotate through a deployed Lambda function.
 *  - test_rotate_secret_invalid_lambda_arn: RotateSecret with an unreachable Lambda ARN (AccessDeniedException).
 *  - test_first_rotate_secret_with_missing_lambda_arn: RotateSecret without a rotation Lambda ARN.
 *  - test_no_client_request_token[RotateSecret]: a RotateSecret request (the other three operations are covered).
 *  - test_resource_policy: PutResourcePolicy / GetResourcePolicy.
 * (test_invalid_secret_name's tenth call is ValidateResourcePolicy with an invalid secret name; it only checks the
 * name validation error, so it is kept.)
 *
 * Notes on the replay:
 *  - LocalStack's eventual-consistency waits (polling ListSecrets until a new secret is listed, polling
 *    DescribeSecret until a force-deleted secret is gone) are not replayed: they only wait, and Lockstep is
 *    strongly consistent.
 *  - Scenarios that compare the whole ListSecrets result (test_call_lists_secrets_multiple_times[_snapshots],
 *    test_create_multi_secrets[_snapshot]) each run against a fresh server, like the empty account they were
 *    recorded in. Secret names there are created in ascending name order, so that "sorted by creation" and
 *    "sorted by name" agree as they did in the recording.
 *  - test_change_secret_value_after_creation is not in the stored copy of the LocalStack test file; its calls are
 *    inferred from the recorded keys and values (LocalStack PR #13543): CreateSecret with SecretBinary b'initial',
 *    GetSecretValue; PutSecretValue(SecretBinary=<first>), GetSecretValue; UpdateSecret(SecretBinary=<second>),
 *    GetSecretValue.
 *  - Secrets are named uniquely per run, except where the scenario is about the name itself
 *    (test_create_and_update_secret's Valid/Invalid names, test_invalid_secret_name).
 *  - Every scenario force-deletes its secrets at the end (errors ignored), like LocalStack's cleanups.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  ValidateResourcePolicyCommand,
  type SecretListEntry,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './helpers/server.js';
import {
  Normaliser,
  actualSide,
  recordedError,
  recordedSide,
  sdkError,
} from './recorded/normalise.js';
import { signedJsonPost } from './helpers/raw.js';

const SNAPSHOT_URL = new URL('../../shared/reference/aws-recorded/secretsmanager.snapshot.json', import.meta.url);
const KEY_PREFIX = 'tests/aws/services/secretsmanager/test_secretsmanager.py::TestSecretsManager::';

type Recorded = Record<string, unknown>;
const snapshot = JSON.parse(readFileSync(SNAPSHOT_URL, 'utf8')) as Record<string, { 'recorded-content': Recorded }>;

/** Scenarios intentionally not replayed here (see the header comment). */
const LEFT_OUT = new Set([
  'test_rotate_secret_with_lambda_success[True]',
  'test_rotate_secret_with_lambda_success[None]',
  'test_rotate_secret_multiple_times_with_lambda_success',
  'test_rotate_secret_invalid_lambda_arn',
  'test_first_rotate_secret_with_missing_lambda_arn',
  'test_no_client_request_token[RotateSecret]',
  'test_resource_policy',
]);

const RUN = randomBytes(3).toString('hex');
let counter = 0;
/** A secret name unique to this run, in the style of LocalStack's `s-<short_uid>`. */
function uniqueName(prefix = 's'): string {
  counter += 1;
  return `${prefix}-${RUN}${String(counter).padStart(3, '0')}`;
}

class Abort extends Error {}

interface Mismatch {
  label: string;
  detail: string;
}

/** One scenario's replay: runs calls, compares each with its recorded response, collects every difference. */
class Replay {
  readonly client: SecretsManagerClient;
  private readonly recorded: Recorded;
  private readonly exp: Normaliser;
  private readonly act: Normaliser;
  private readonly checked = new Set<string>();
  readonly mismatches: Mismatch[] = [];

  constructor(
    readonly srv: TestServer,
    readonly scenario: string,
    readonly names: readonly string[],
    extraActualSubstitutions: ReadonlyArray<readonly [string, string]> = [],
  ) {
    const entry = snapshot[KEY_PREFIX + scenario];
    assert.ok(entry, `scenario ${scenario} is not in the snapshot`);
    this.recorded = entry['recorded-content'];
    this.client = srv.client();
    const text = JSON.stringify(this.recorded);
    // How the recording spells secret i: LocalStack's <SecretId-iidx> or <name:i+1> placeholder, else literally.
    const tokens = names.map((n, i) =>
      text.includes(`<SecretId-${i}idx>`) ? `<SecretId-${i}idx>` : text.includes(`<name:${i + 1}>`) ? `<name:${i + 1}>` : n,
    );
    this.exp = new Normaliser(recordedSide(tokens));
    this.act = new Normaliser(
      actualSide({ region: srv.region, accountId: srv.accountId, names, extraSubstitutions: extraActualSubstitutions }),
    );
  }

  private expected(label: string): unknown {
    assert.ok(label in this.recorded, `replay bug: no recorded call "${label}" in ${this.scenario}`);
    assert.ok(!this.checked.has(label), `replay bug: "${label}" compared twice`);
    this.checked.add(label);
    return this.recorded[label];
  }

  private compare(label: string, actual: unknown, expected: unknown): void {
    try {
      assert.deepStrictEqual(actual, expected);
    } catch (e) {
      this.mismatches.push({
        label,
        detail:
          `expected (AWS): ${JSON.stringify(expected)}\n` +
          `actual (Lockstep): ${JSON.stringify(actual)}\n` +
          (e instanceof Error ? e.message : String(e)),
      });
    }
  }

  /** A call AWS answered successfully; compares the output and returns it (raw) for later calls. */
  async ok<T>(label: string, call: () => Promise<T>): Promise<T> {
    const expected = this.exp.normalise(this.expected(label));
    let out: T;
    try {
      out = await call();
    } catch (e) {
      this.mismatches.push({
        label,
        detail: `expected (AWS) success: ${JSON.stringify(expected)}\nactual (Lockstep) error: ${JSON.stringify(sdkError(e))}`,
      });
      throw new Abort(`${label} failed`);
    }
    this.compare(label, this.act.normalise(out), expected);
    return out;
  }

  /** Like ok() for a call whose output later calls do not need: a failure is noted and the replay goes on. */
  async check(label: string, call: () => Promise<unknown>): Promise<void> {
    try {
      await this.ok(label, call);
    } catch (e) {
      if (!(e instanceof Abort)) throw e;
    }
  }

  /** A call AWS rejected; compares error code, message and HTTP status. */
  async fails(label: string, call: () => Promise<unknown>): Promise<void> {
    const expected = this.exp.normalise(recordedError(this.expected(label)));
    let out: unknown;
    try {
      out = await call();
    } catch (e) {
      this.compare(label, this.act.normalise(sdkError(e)), expected);
      return;
    }
    this.mismatches.push({
      label,
      detail: `expected (AWS) error: ${JSON.stringify(expected)}\nactual (Lockstep) success: ${JSON.stringify(this.act.normalise(out))}`,
    });
  }

  /** A value obtained some other way (raw HTTP), compared as a whole. */
  raw(label: string, actual: unknown): void {
    this.compare(label, this.act.normalise(actual), this.exp.normalise(this.expected(label)));
  }

  /** A call the recording made but did not snapshot; it must succeed for the rest to mean anything. */
  async step<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      this.mismatches.push({ label: `(unrecorded step) ${what}`, detail: `Lockstep error: ${JSON.stringify(sdkError(e))}` });
      throw new Abort(`${what} failed`);
    }
  }

  /** Force-deletes the scenario's secrets, ignoring errors. */
  async cleanup(): Promise<void> {
    for (const name of this.names) {
      try {
        await this.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      } catch {
        // already gone or never created
      }
    }
  }

  /** Fails with every difference found, and if any recorded call was not replayed. */
  finish(): void {
    const missing = Object.keys(this.recorded).filter((l) => !this.checked.has(l));
    if (missing.length > 0 && this.mismatches.length === 0) {
      this.mismatches.push({ label: '(replay)', detail: `recorded calls not replayed: ${missing.join(', ')}` });
    }
    if (this.mismatches.length > 0) {
      assert.fail(
        `${this.scenario}: ${this.mismatches.length} difference(s) from AWS\n\n` +
          this.mismatches.map((m) => `--- ${m.label}\n${m.detail}`).join('\n\n'),
      );
    }
  }
}

type ScenarioBody = (r: Replay) => Promise<void>;

interface ScenarioOptions {
  /** Secret names used, index i matching LocalStack's <SecretId-iidx>. */
  names: string[];
  /** Literal values in Lockstep's answers to replace before comparing (e.g. a random id quoted in a message). */
  substitutions?: Array<[string, string]>;
  /** Run against a server of its own (scenarios that compare the whole account's ListSecrets). */
  freshServer?: boolean;
}

const covered = new Set<string>();
let shared: TestServer | undefined;

function scenario(id: string, opts: ScenarioOptions, body: ScenarioBody): void {
  covered.add(id);
  test(id, async () => {
    const srv = opts.freshServer ? await startServer() : shared;
    assert.ok(srv, 'server not started');
    try {
      const r = new Replay(srv, id, opts.names, opts.substitutions);
      try {
        await body(r);
      } catch (e) {
        if (!(e instanceof Abort)) {
          r.mismatches.push({ label: '(unexpected exception)', detail: e instanceof Error ? e.stack ?? e.message : String(e) });
        }
      } finally {
        await r.cleanup();
      }
      r.finish();
    } finally {
      if (opts.freshServer) await srv.stop();
    }
  });
}

/** ListSecrets through all pages, merged like boto3's paginator build_full_result(). */
async function listAll(client: SecretsManagerClient): Promise<{ SecretList: SecretListEntry[] }> {
  const all: SecretListEntry[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListSecretsCommand({ NextToken: token }));
    all.push(...(out.SecretList ?? []));
    token = out.NextToken;
  } while (token);
  return { SecretList: all };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const forceDelete = (SecretId: string) => new DeleteSecretCommand({ SecretId, ForceDeleteWithoutRecovery: true });
const getValue = (SecretId: string) => new GetSecretValueCommand({ SecretId });
const listVersions = (SecretId: string) => new ListSecretVersionIdsCommand({ SecretId });
/** UpdateSecretVersionStage moving AWSCURRENT from version `from` to version `to`. */
const moveCurrent = (SecretId: string, from: { VersionId?: string }, to: { VersionId?: string }) =>
  new UpdateSecretVersionStageCommand({
    SecretId, RemoveFromVersionId: from.VersionId, MoveToVersionId: to.VersionId, VersionStage: 'AWSCURRENT',
  });

/** CreateSecret 'Something1', then PutSecretValue 'Something2' labelled AWSPENDING; returns both outputs. */
async function createWithPending(r: Replay, name: string) {
  const c = r.client;
  const created = await r.ok('create_secret_rs_0', () =>
    c.send(new CreateSecretCommand({ Name: name, SecretString: 'Something1' })),
  );
  const pending = await r.ok('put_secret_value_res_0', () =>
    c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'Something2', VersionStages: ['AWSPENDING'] })),
  );
  return { created, pending };
}

/**
 * The rest of a pending cycle once v0 holds AWSCURRENT and v1 is pending: AWSCURRENT moves to v1, a third
 * version 'S3' (labelled `secondStages`) is put, and AWSCURRENT moves on to it (recorded as `secondMoveLabel`);
 * the versions are listed and the current value read at the start and after each step. List labels count
 * from `firstList`, value labels from 0, and the third version's PutSecretValue is put_secret_value_res_<firstList + 1>.
 */
async function pendingCycle(
  r: Replay,
  name: string,
  v0: { VersionId?: string },
  v1: { VersionId?: string },
  opts: { firstList: number; secondStages: string[]; secondMoveLabel: string },
): Promise<void> {
  const c = r.client;
  let list = opts.firstList;
  let get = 0;
  const listAndGet = async () => {
    await r.check(`list_secret_version_ids_res_${list++}`, () => c.send(listVersions(name)));
    await r.check(`get_secret_value_res_${get++}`, () => c.send(getValue(name)));
  };
  await listAndGet();
  await r.check('update_secret_version_stage_res_0', () => c.send(moveCurrent(name, v0, v1)));
  await listAndGet();
  const v2 = await r.ok(`put_secret_value_res_${opts.firstList + 1}`, () =>
    c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'S3', VersionStages: opts.secondStages })),
  );
  await listAndGet();
  await r.check(opts.secondMoveLabel, () => c.send(moveCurrent(name, v1, v2)));
  await listAndGet();
  await r.check('delete_secret_res_0', () => c.send(forceDelete(name)));
}

describe('recorded AWS responses', () => {
  before(async () => {
    shared = await startServer();
  });
  after(async () => {
    await shared?.stop();
  });

  test('every recorded scenario is replayed or deliberately left out', () => {
    const all = Object.keys(snapshot).map((k) => {
      assert.ok(k.startsWith(KEY_PREFIX), `unexpected snapshot key ${k}`);
      return k.slice(KEY_PREFIX.length);
    });
    const unaccounted = all.filter((s) => !covered.has(s) && !LEFT_OUT.has(s));
    assert.deepEqual(unaccounted, []);
    assert.deepEqual([...covered].filter((s) => !all.includes(s)), []);
    assert.equal(covered.size + LEFT_OUT.size, all.length);
  });

  // --- create / get / describe / put / update / delete ------------------------------------------------------------

  const createAndUpdate: Array<[id: string, name: string | undefined, partialArnResolves: boolean]> = [
    ['test_create_and_update_secret[s-c64bdc03]', undefined, true],
    ['test_create_and_update_secret[Valid/_+=.@-Name]', 'Valid/_+=.@-Name', true],
    ['test_create_and_update_secret[Valid/_+=.@-Name-a1b2]', 'Valid/_+=.@-Name-a1b2', true],
    ['test_create_and_update_secret[Valid/_+=.@-Name-a1b2c3-]', 'Valid/_+=.@-Name-a1b2c3-', true],
    ['test_create_and_update_secret[s-c64bdc03-True]', undefined, true],
    ['test_create_and_update_secret[s-4b175f02-True]', undefined, true],
    ['test_create_and_update_secret[Valid/_+=.@-Name-True]', 'Valid/_+=.@-Name', true],
    ['test_create_and_update_secret[Valid/_+=.@-Name-a1b2-True]', 'Valid/_+=.@-Name-a1b2', true],
    ['test_create_and_update_secret[Valid/_+=.@-Name-a1b2c3--True]', 'Valid/_+=.@-Name-a1b2c3-', true],
    // "...-a1b2c3" looks like a full ARN's 6-character suffix, so the partial ARN names another secret.
    ['test_create_and_update_secret[Invalid/_+=.@-Name-a1b2c3-False]', 'Invalid/_+=.@-Name-a1b2c3', false],
  ];
  for (const [id, fixedName, partialArnResolves] of createAndUpdate) {
    const name = fixedName ?? uniqueName();
    scenario(id, { names: [name] }, async (r) => {
      const c = r.client;
      const created = await r.ok('create_secret_rs_1', () =>
        c.send(new CreateSecretCommand({ Name: name, SecretString: 'my_secret', Description: 'Testing secret creation.' })),
      );
      const arn = created.ARN ?? '';
      await r.check('get_secret_value_rs_1', () => c.send(new GetSecretValueCommand({ SecretId: name })));
      await r.check('describe_secret_rs_1', () => c.send(new DescribeSecretCommand({ SecretId: name })));
      await r.check('get_secret_value_rs_2', () => c.send(new GetSecretValueCommand({ SecretId: arn })));
      if (partialArnResolves) {
        await r.check('get_secret_value_rs_3', () => c.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) })));
      } else {
        await r.fails('resource_not_found_dict_1', () => c.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) })));
      }
      await r.check('put_secret_value_rs_1', () => c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'new_secret' })));
      await r.check('get_secret_value_rs_4', () => c.send(new GetSecretValueCommand({ SecretId: name })));
      await r.check('update_secret_res_1', () =>
        c.send(new UpdateSecretCommand({ SecretId: arn, SecretString: 'test123', Description: 'd1' })),
      );
      await r.check('delete_secret_res_1', () => c.send(forceDelete(name)));
    });
  }

  {
    const name = uniqueName();
    scenario('test_secret_restore', { names: [name] }, async (r) => {
      const c = r.client;
      await r.step('create_secret', () =>
        c.send(new CreateSecretCommand({ Name: name, SecretString: 'my_secret', Description: 'test description' })),
      );
      await r.check('delete_secret_res', () => c.send(new DeleteSecretCommand({ SecretId: name })));
      await r.check('restore_secret_res', () => c.send(new RestoreSecretCommand({ SecretId: name })));
    });
  }

  {
    const names = [uniqueName(), uniqueName()];
    scenario('test_secret_not_found', { names }, async (r) => {
      const c = r.client;
      await r.fails('get_secret_value_not_found_ex', () => c.send(new GetSecretValueCommand({ SecretId: names[0] })));
      await r.fails('list_secret_version_ids_not_found_ex', () =>
        c.send(new ListSecretVersionIdsCommand({ SecretId: names[1] })),
      );
    });
  }

  {
    const name = uniqueName();
    const versionId = randomUUID();
    scenario('test_secret_version_not_found', { names: [name], substitutions: [[versionId, '<version-id>']] }, async (r) => {
      const c = r.client;
      await r.step('create_secret (no value)', () => c.send(new CreateSecretCommand({ Name: name })));
      await r.fails('get_secret_value_no_version_ex', () => c.send(new GetSecretValueCommand({ SecretId: name })));
      await r.fails('get_secret_value_version_not_found_ex', () =>
        c.send(new GetSecretValueCommand({ SecretId: name, VersionId: versionId })),
      );
      await r.fails('get_secret_value_stage_not_found_ex', () =>
        c.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' })),
      );
    });
  }

  // --- ListSecrets over a whole (fresh) account -------------------------------------------------------------------

  for (const id of ['test_call_lists_secrets_multiple_times', 'test_call_lists_secrets_multiple_times_snapshots']) {
    const name = uniqueName();
    scenario(id, { names: [name], freshServer: true }, async (r) => {
      const c = r.client;
      await r.check('create_secret_rs_1', () =>
        c.send(
          new CreateSecretCommand({ Name: name, SecretString: 'my_secret', Description: 'testing creation of secrets' }),
        ),
      );
      for (let i = 0; i < 3; i++) await r.check(`list_secrets_res_${i}`, () => listAll(c));
      await r.check('delete_secret_res_1', () => c.send(forceDelete(name)));
    });
  }

  for (const id of ['test_create_multi_secrets', 'test_create_multi_secrets_snapshot']) {
    const names = [uniqueName('m'), uniqueName('m'), uniqueName('m')]; // ascending
    scenario(id, { names, freshServer: true }, async (r) => {
      const c = r.client;
      for (const name of names) {
        await r.step(`create_secret ${name}`, () =>
          c.send(
            new CreateSecretCommand({ Name: name, SecretString: `my_secret_${name}`, Description: 'Testing secrets creation.' }),
          ),
        );
      }
      await r.check('list_secrets_res', () => listAll(c));
      for (let i = 0; i < names.length; i++) await r.check(`delete_secret_res${i}`, () => c.send(forceDelete(names[i])));
    });
  }

  // --- version stages ----------------------------------------------------------------------------------------------

  {
    const name = uniqueName();
    scenario('test_put_secret_value_with_version_stages', { names: [name] }, async (r) => {
      const c = r.client;
      await r.check('create_secret_rs_0', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'secret_string_v0' })));
      await r.check('get_secret_value_res_0', () => c.send(getValue(name)));
      const stages = ['SAMPLESTAGE1', 'SAMPLESTAGE0'];
      // Versions 1 to 4 (the last without VersionStages), each read back.
      const versionStages: Array<string[] | undefined> = [stages, stages, ['AWSPENDING'], undefined];
      for (const [i, VersionStages] of versionStages.entries()) {
        const v = i + 1;
        await r.check(`put_secret_value_res_${v}`, () =>
          c.send(
            new PutSecretValueCommand({
              SecretId: name, SecretString: `secret_string_v${v}`, VersionStages, ClientRequestToken: randomUUID(),
            }),
          ),
        );
        await r.check(`get_secret_value_res_${v}`, () => c.send(getValue(name)));
      }
      await r.check('delete_secret_res_1', () => c.send(forceDelete(name)));
    });
  }

  {
    const name = uniqueName();
    scenario('test_update_secret_description', { names: [name] }, async (r) => {
      const c = r.client;
      const describe = () => c.send(new DescribeSecretCommand({ SecretId: name }));
      await r.check('create_secret_rs_0', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'MySecretString' })));
      await r.check('describe_secret_res_0', describe);
      await r.check('update_secret_res_0', () => c.send(new UpdateSecretCommand({ SecretId: name, Description: 'MyDescription' })));
      await r.check('describe_secret_res_1', describe);
      await r.check('update_secret_res_1', () =>
        c.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'MyNewSecretString', Description: 'MyNewDescription' })),
      );
      await r.check('describe_secret_res_2', describe);
      await r.check('update_secret_res_2', () =>
        c.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'MyNewSecretString'.repeat(2) })),
      );
      await r.check('describe_secret_res_3', describe);
      await r.check('update_secret_res_3', () => c.send(new UpdateSecretCommand({ SecretId: name })));
      await r.check('describe_secret_res_4', describe);
      await r.check('delete_secret_res_0', () => c.send(forceDelete(name)));
    });
  }

  {
    const name = uniqueName();
    scenario('test_update_secret_version_stages_return_type', { names: [name] }, async (r) => {
      const c = r.client;
      const { created, pending } = await createWithPending(r, name);
      await r.check('update_secret_version_stage_res_0', () => c.send(moveCurrent(name, created, pending)));
      await r.check('delete_secret_res_0', () => c.send(forceDelete(name)));
    });
  }

  {
    const name = uniqueName();
    scenario('test_update_secret_version_stages_current_previous', { names: [name] }, async (r) => {
      const c = r.client;
      await r.check('create_secret_rs_0', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'secret_string_v0' })));
      await r.check('list_secret_version_ids_res_0', () => c.send(listVersions(name)));
      await r.check('update_secret_res_0', () =>
        c.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'secret_string_v1' })),
      );
      await r.check('list_secret_version_ids_res_1', () => c.send(listVersions(name)));
      await r.check('delete_secret_res_0', () => c.send(forceDelete(name)));
    });
  }

  {
    const name = uniqueName();
    scenario('test_update_secret_version_stages_current_pending', { names: [name] }, async (r) => {
      const c = r.client;
      const { created, pending } = await createWithPending(r, name);
      await r.check('list_secret_version_ids_res_0', () => c.send(listVersions(name)));
      await r.check('update_secret_version_stage_res_0', () => c.send(moveCurrent(name, created, pending)));
      await r.check('list_secret_version_ids_res_1', () => c.send(listVersions(name)));
      await r.check('put_secret_value_res_1', () => c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'SS3' })));
      await r.check('list_secret_version_ids_res_2', () => c.send(listVersions(name)));
      await r.check('delete_secret_res_0', () => c.send(forceDelete(name)));
    });
  }

  // The two pending cycles that start from CreateSecret 'S1' and a labelled PutSecretValue 'S2'.
  const pendingCycles: Array<[id: string, firstStages: string[], secondStages: string[], secondMoveLabel: string]> = [
    // (LocalStack recorded the second UpdateSecretVersionStage under the label put_secret_value_res_2.)
    ['test_update_secret_version_stages_current_pending_cycle', ['AWSPENDING'], ['AWSPENDING'], 'put_secret_value_res_2'],
    [
      'test_update_secret_version_stages_current_pending_cycle_custom_stages_1',
      ['AWSSOMETHING', 'AWSPENDING', 'PUT1'],
      ['AWSPENDING', 'PUT2'],
      'update_secret_version_stage_res_1',
    ],
  ];
  for (const [id, firstStages, secondStages, secondMoveLabel] of pendingCycles) {
    const name = uniqueName();
    scenario(id, { names: [name] }, async (r) => {
      const c = r.client;
      const v0 = await r.ok('create_secret_rs_0', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'S1' })));
      const v1 = await r.ok('put_secret_value_res_0', () =>
        c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'S2', VersionStages: firstStages })),
      );
      await pendingCycle(r, name, v0, v1, { firstList: 0, secondStages, secondMoveLabel });
    });
  }

  {
    const name = uniqueName();
    scenario('test_update_secret_version_stages_current_pending_cycle_custom_stages_2', { names: [name] }, async (r) => {
      const c = r.client;
      await r.check('create_secret_rs_0', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'SS' })));
      const v0 = await r.ok('put_secret_value_res_0', () =>
        c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'S1', VersionStages: ['AWSCURRENT', 'PUT0'] })),
      );
      await r.check('list_secret_version_ids_res_0', () => c.send(listVersions(name)));
      const v1 = await r.ok('put_secret_value_res_1', () =>
        c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'S2', VersionStages: ['AWSPENDING', 'PUT1'] })),
      );
      await pendingCycle(r, name, v0, v1, {
        firstList: 1, secondStages: ['AWSPENDING', 'PUT2'], secondMoveLabel: 'update_secret_version_stage_res_1',
      });
    });
  }

  {
    const name = uniqueName();
    scenario('test_update_secret_version_stages_current_pending_cycle_custom_stages_3', { names: [name] }, async (r) => {
      const c = r.client;
      const v1 = await r.ok('create_secret_rs', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'SS' })));
      const v2 = await r.ok('put_secret_value_res_0', () =>
        c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'S1', VersionStages: ['PENDING'] })),
      );
      await r.check('list_secret_version_ids_rs', () => c.send(listVersions(name)));
      const getV1 = () => c.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1.VersionId }));
      const getV2 = () => c.send(new GetSecretValueCommand({ SecretId: name, VersionId: v2.VersionId }));
      await r.check('get_secret_value_v1_rs', getV1);
      await r.check('get_secret_value_v2_rs', getV2);
      await r.check('update_secret_version_stage_res_1', () => c.send(moveCurrent(name, v1, v2)));
      await r.check('get_secret_value_v1_rs_1', getV1);
      await r.check('get_secret_value_v2_rs_1', getV2);
      await r.check('update_secret_version_stage_res_2', () =>
        c.send(new UpdateSecretVersionStageCommand({ SecretId: name, RemoveFromVersionId: v2.VersionId, VersionStage: 'PENDING' })),
      );
      await r.check('get_secret_value_v1_rs_2', getV1);
      await r.check('get_secret_value_v2_rs_2', getV2);
      await r.check('delete_secret_res_0', () => c.send(forceDelete(name)));
    });
  }

  for (const [id, second] of [
    ['test_non_versioning_version_stages_replacement', ['one', 'two', 'three', 'four']],
    ['test_non_versioning_version_stages_no_replacement', ['one', 'two', 'four']],
  ] as const) {
    const name = uniqueName();
    scenario(id, { names: [name] }, async (r) => {
      const c = r.client;
      await r.check('create_secret_rs_0', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'S0' })));
      await r.check('put_secret_value_res_0', () =>
        c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'S1', VersionStages: ['one', 'two', 'three'] })),
      );
      await r.check('list_secret_version_ids_res_0', () => c.send(listVersions(name)));
      await r.check('put_secret_value_res_1', () =>
        c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'S2', VersionStages: [...second] })),
      );
      await r.check('list_secret_version_ids_res_1', () => c.send(listVersions(name)));
      await r.check('delete_secret_res_0', () => c.send(forceDelete(name)));
    });
  }

  {
    const name = uniqueName();
    scenario('test_deprecated_secret_version_stage', { names: [name] }, async (r) => {
      const c = r.client;
      const list = (IncludeDeprecated?: boolean) =>
        c.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated }));
      const put = (SecretString: string) => c.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
      await r.check('create_secret', () =>
        c.send(new CreateSecretCommand({ Name: name, SecretString: 'original', Description: 'My secret' })),
      );
      await r.check('list_secret_version_ids', () => list());
      await r.check('put_secret_value_1', () => put('update1'));
      await r.check('list_secret_version_ids_1', () => list());
      await r.check('put_secret_value_2', () => put('update2'));
      await r.check('list_secret_version_ids_2', () => list());
      await r.check('list_secret_version_ids_3', () => list(true));
      await r.check('put_secret_value_3', () => put('update3'));
      await r.check('list_secret_version_ids_4', () => list());
      await r.check('list_secret_version_ids_5', () => list(true));
    });
  }

  // --- names and errors --------------------------------------------------------------------------------------------

  const invalidNames: Array<[id: string, name: string]> = [
    ['test_invalid_secret_name[Inv Name]', 'Inv Name'],
    ['test_invalid_secret_name[ Inv Name]', ' Inv Name'],
    ['test_invalid_secret_name[ Inv*Name? ]', ' Inv*Name? '],
    ['test_invalid_secret_name[ Inv *?!]Name\\\\-]', ' Inv *?!]Name\\-'],
  ];
  for (const [id, name] of invalidNames) {
    scenario(id, { names: [name] }, async (r) => {
      const c = r.client;
      await r.fails('ex_log_1', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'MySecretString' })));
      await r.fails('ex_log_2', () => c.send(forceDelete(name)));
      await r.fails('ex_log_3', () => c.send(new DescribeSecretCommand({ SecretId: name })));
      await r.fails('ex_log_4', () => c.send(new GetSecretValueCommand({ SecretId: name })));
      await r.fails('ex_log_5', () => c.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true })));
      await r.fails('ex_log_6', () => c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'MySecretString' })));
      await r.fails('ex_log_7', () =>
        c.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'FirstTag', Value: 'SomeValue' }] })),
      );
      await r.fails('ex_log_8', () => c.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['FirstTag'] })));
      await r.fails('ex_log_9', () => c.send(new UpdateSecretCommand({ SecretId: name, Description: 'MyNewDescription' })));
      await r.fails('ex_log_10', () =>
        c.send(
          new ValidateResourcePolicyCommand({
            SecretId: name,
            ResourcePolicy:
              '{\n"Version":"2012-10-17",\n"Statement":[{\n"Effect":"Allow",\n"Principal":{\n"AWS":"arn:aws:iam::123456789012:root"\n},\n"Action":"secretsmanager:GetSecretValue",\n"Resource":"*"\n}]\n}',
          }),
        ),
      );
    });
  }

  {
    const name = uniqueName();
    scenario('test_exp_raised_on_creation_of_secret_scheduled_for_deletion', { names: [name] }, async (r) => {
      const c = r.client;
      const input = { Name: name, SecretString: `secretstr-${RUN}` };
      await r.step('create_secret', () => c.send(new CreateSecretCommand(input)));
      await r.check('delete_res', () => c.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 })));
      await r.fails('invalid_req_ex', () => c.send(new CreateSecretCommand(input)));
    });
  }

  {
    const name = uniqueName();
    scenario('test_can_recreate_delete_secret', { names: [name] }, async (r) => {
      const c = r.client;
      const input = { Name: name, SecretString: `secretstr-${RUN}` };
      await r.check('create_secret_res_0', () => c.send(new CreateSecretCommand(input)));
      await r.check('delete_res_1', () => c.send(forceDelete(name)));
      await r.check('create_secret_res_1', () => c.send(new CreateSecretCommand(input)));
      await r.step('delete_secret', () => c.send(forceDelete(name)));
    });
  }

  {
    const name = uniqueName();
    scenario('test_secret_exists_snapshots', { names: [name] }, async (r) => {
      const c = r.client;
      const input = { Name: name, SecretString: `my_secret_${name}`, Description: 'Snapshot testing secret already exists.' };
      await r.step('create_secret', () => c.send(new CreateSecretCommand(input)));
      await r.fails('ex_log', () => c.send(new CreateSecretCommand(input)));
      await r.check('delete_secret_res', () => c.send(forceDelete(name)));
    });
  }

  for (const operation of ['CreateSecret', 'UpdateSecret', 'PutSecretValue']) {
    const name = uniqueName();
    scenario(`test_no_client_request_token[${operation}]`, { names: [name] }, async (r) => {
      const payload: Record<string, string> = { SecretString: 'thisisthesecret', Description: 'My secret string' };
      if (operation === 'CreateSecret') payload.Name = name;
      else payload.SecretId = name;
      const res = await signedJsonPost(r.srv, operation, payload);
      r.raw('no-client-request-exc', { Error: res.body, Metadata: { StatusCode: res.status } });
    });
  }

  {
    const name = uniqueName('test-version');
    scenario('test_create_secret_version_from_empty_secret', { names: [name] }, async (r) => {
      const c = r.client;
      const created = await r.ok('create-empty-secret', () => c.send(new CreateSecretCommand({ Name: name, Description: '' })));
      const arn = created.ARN ?? '';
      await r.check('describe-secret', () => c.send(new DescribeSecretCommand({ SecretId: arn })));
      await r.check('put-secret-value', () =>
        c.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'example-string-to-protect' })),
      );
    });
  }

  // --- tags, deletion, values ---------------------------------------------------------------------------------------

  {
    const name = uniqueName();
    scenario('test_secret_tags', { names: [name] }, async (r) => {
      const c = r.client;
      const created = await r.ok('create_secret', () => c.send(new CreateSecretCommand({ Name: name })));
      const arn = created.ARN ?? '';
      const describe = () => c.send(new DescribeSecretCommand({ SecretId: arn }));
      await r.check('describe_secret', describe);
      await r.check('tag_resource_1', () => c.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'tag1', Value: 'value1' }] })));
      await r.check('describe_secret_1', describe);
      await r.check('tag_resource_2', () => c.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'tag2', Value: 'value2' }] })));
      await r.check('describe_secret_2', describe);
      await r.check('untag_resource_1', () => c.send(new UntagResourceCommand({ SecretId: arn, TagKeys: ['tag1'] })));
      await r.check('describe_secret_3', describe);
      await r.check('untag_resource_2', () => c.send(new UntagResourceCommand({ SecretId: arn, TagKeys: ['tag2'] })));
      await r.check('describe_secret_4', describe);
      await r.step('tag_resource tag3, tag4', () =>
        c.send(
          new TagResourceCommand({
            SecretId: arn,
            Tags: [
              { Key: 'tag3', Value: 'value3' },
              { Key: 'tag4', Value: 'value4' },
            ],
          }),
        ),
      );
      await r.check('describe_secret_5', describe);
      await r.step('untag_resource tag3, tag4', () =>
        c.send(new UntagResourceCommand({ SecretId: arn, TagKeys: ['tag3', 'tag4'] })),
      );
      await r.check('describe_secret_6', describe);
    });
  }

  {
    const name = uniqueName();
    scenario('test_tag_untag_resource_on_deleted_secret', { names: [name] }, async (r) => {
      const c = r.client;
      const created = await r.ok('create_secret', () =>
        c.send(
          new CreateSecretCommand({
            Name: name, SecretString: 'test-secret-value', Tags: [{ Key: 'initial-tag', Value: 'initial-value' }],
          }),
        ),
      );
      const arn = created.ARN ?? '';
      await r.check('delete_secret', () => c.send(new DeleteSecretCommand({ SecretId: arn })));
      await r.fails('tag_deleted_secret_error', () =>
        c.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'new-tag', Value: 'new-value' }] })),
      );
      await r.fails('untag_deleted_secret_error', () =>
        c.send(new UntagResourceCommand({ SecretId: arn, TagKeys: ['initial-tag'] })),
      );
    });
  }

  {
    const name = uniqueName();
    scenario('test_get_secret_value_errors', { names: [name] }, async (r) => {
      const c = r.client;
      const created = await r.step('create_secret', () => c.send(new CreateSecretCommand({ Name: name, SecretString: 'test' })));
      await r.fails('error_get_secret_value_non_existing', () =>
        c.send(new GetSecretValueCommand({ SecretId: created.ARN, VersionStage: 'AWSPREVIOUS' })),
      );
      await r.fails('mismatch_version_id_and_stage', () =>
        c.send(new GetSecretValueCommand({ SecretId: name, VersionId: created.VersionId, VersionStage: 'AWSPREVIOUS' })),
      );
    });
  }

  {
    const name = uniqueName();
    scenario('test_get_secret_value', { names: [name] }, async (r) => {
      const c = r.client;
      const created = await r.step('create_secret', () =>
        c.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes('footest') })),
      );
      await r.check('secret_value_response', () => c.send(new GetSecretValueCommand({ SecretId: created.ARN })));
      const res = await signedJsonPost(r.srv, 'GetSecretValue', { SecretId: name });
      r.raw('secret_value_http_response', res.status === 200 ? res.body : { status: res.status, body: res.body });
    });
  }

  {
    const name = uniqueName();
    scenario('test_force_delete_deleted_secret', { names: [name] }, async (r) => {
      const c = r.client;
      const created = await r.ok('create_secret_response', () =>
        c.send(new CreateSecretCommand({ Name: name, SecretString: `secretstr-${RUN}` })),
      );
      const arn = created.ARN ?? '';
      await r.check('delete_secret_response', () => c.send(new DeleteSecretCommand({ SecretId: arn })));
      await r.check('describe_secret_response', () => c.send(new DescribeSecretCommand({ SecretId: arn })));
      await r.check('force_delete_secret_response', () => c.send(forceDelete(arn)));
    });
  }

  const binaryChanges: Array<[id: string, first: Uint8Array, second: Uint8Array]> = [
    ['test_change_secret_value_after_creation[footest-updated1]', bytes('footest'), bytes('updated1')],
    ['test_change_secret_value_after_creation[tops3cret-updated2]', bytes('tops3cret'), bytes('updated2')],
    [
      'test_change_secret_value_after_creation[\\x00\\x01\\x02\\xff-\\xfe\\xfd]',
      Uint8Array.from([0x00, 0x01, 0x02, 0xff]),
      Uint8Array.from([0xfe, 0xfd]),
    ],
  ];
  for (const [id, first, second] of binaryChanges) {
    const name = uniqueName();
    scenario(id, { names: [name] }, async (r) => {
      const c = r.client;
      const get = () => c.send(new GetSecretValueCommand({ SecretId: name }));
      await r.step('create_secret', () => c.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes('initial') })));
      await r.check('put_secret_value_secret_response', get);
      await r.step('put_secret_value', () => c.send(new PutSecretValueCommand({ SecretId: name, SecretBinary: first })));
      await r.check('put_secret_binary_response_updated', get);
      await r.step('update_secret', () => c.send(new UpdateSecretCommand({ SecretId: name, SecretBinary: second })));
      await r.check('update_secret_binary_response_updated', get);
    });
  }
});
