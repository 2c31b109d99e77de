import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { dataDirOption, wholeNumber } from './options.js';
import { loadMasterKey, type LoadedMasterKey } from '../crypto/keyring.js';
import { MASTER_KEY_FILE } from '../crypto/master-key-file.js';
import { kmsArnPrefix } from '../crypto/named-keys.js';
import {
  createAlias, createKey, deleteAlias, describeKey, listAliases, listKeys, setKeyEnabled, type KeyAdminEnv,
} from '../crypto/key-admin.js';
import { rotateMasterKey } from '../crypto/master-rotation.js';
import { openStore } from '../storage/open.js';
import type { Store } from '../storage/types.js';

/*
 * `lockstep keys ...`: named encryption keys and their aliases (what KmsKeyId names), and the
 * rotation of the master key. Every command works on the data directory directly, also while
 * servers run on it: they see new and disabled keys on their next read and a rotated master key on
 * their next use of it. Results print as the aws CLI prints KMS's (KeyMetadata, Keys, Aliases).
 */

interface Common {
  dataDir: string;
  region: string;
  accountId?: string;
}

const DEFAULT_ACCOUNT = '123456789012';

interface Opened {
  dataDir: string;
  store: Store;
  loaded: LoadedMasterKey;
  admin: KeyAdminEnv;
}

/** Opens a data directory for key work: its store, its master keys, its ARNs. */
async function openKeys(o: Common, checkMasterKey = true): Promise<Opened> {
  const dataDir = resolve(o.dataDir);
  if (!existsSync(join(dataDir, 'lockstep.sqlite'))) throw new Error(`no Lockstep data in ${dataDir} (start the server on it once)`);
  if (!process.env.LOCKSTEP_MASTER_KEY && !existsSync(join(dataDir, MASTER_KEY_FILE))) {
    throw new Error(`no master key: ${join(dataDir, MASTER_KEY_FILE)} does not exist and LOCKSTEP_MASTER_KEY is not set`);
  }
  const loaded = loadMasterKey(dataDir);
  const store = openStore(process.env.LOCKSTEP_STORAGE || 'sqlite', dataDir);
  try {
    const meta = await store.read(async (tx) => ({ kek: await tx.meta.get('kek_id'), account: await tx.meta.get('account_id') }));
    if (checkMasterKey && meta.kek !== undefined && !loaded.keyring.get(meta.kek)) {
      throw new Error(`the master key does not match the data directory ${dataDir}: it was created with key ${meta.kek}, and ${loaded.source} does not hold it`);
    }
    if (o.accountId !== undefined && !/^\d{12}$/.test(o.accountId)) throw new Error('--account-id must be 12 digits');
    const accountId = o.accountId ?? meta.account ?? DEFAULT_ACCOUNT;
    const admin: KeyAdminEnv = { store, master: loaded.keyring, kmsArnPrefix: kmsArnPrefix('aws', o.region, accountId), accountId, now: Date.now };
    return { dataDir, store, loaded, admin };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Runs fn on an opened data directory and prints its result as JSON (nothing for undefined). */
async function run<T>(o: Common, fn: (k: Opened) => Promise<T>): Promise<void> {
  const k = await openKeys(o);
  try {
    const out = await fn(k);
    if (out !== undefined) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    await k.store.close();
  }
}

/** The options every `keys` command takes: where the data is, and what its ARNs look like. */
function common(c: Command): Command {
  return c
    .addOption(dataDirOption())
    .addOption(new Option('--region <region>', 'the Region in key and alias ARNs (the server\'s --region)').env('LOCKSTEP_REGION').default('us-east-1'))
    .addOption(new Option('--account-id <id>', 'the account in ARNs (default: the data directory\'s)').env('LOCKSTEP_ACCOUNT_ID'));
}

function aliasCommand(): Command {
  const cmd = new Command('alias').description('Aliases (alias/<name>) that point at named keys');
  common(cmd.command('create').description('Create an alias pointing at a key').argument('<alias>', 'alias/<name>').argument('<key>', 'key ID or key ARN'))
    .action((alias: string, key: string, o: Common) => run(o, ({ admin }) => createAlias(admin, alias, key)));
  common(cmd.command('delete').description('Delete an alias (the key stays)').argument('<alias>', 'alias/<name>'))
    .action((alias: string, o: Common) => run(o, ({ admin }) => deleteAlias(admin, alias)));
  common(cmd.command('list').description('List aliases, the default key\'s alias/aws/secretsmanager first'))
    .action((o: Common) => run(o, async ({ admin }) => ({ Aliases: await listAliases(admin) })));
  return cmd;
}

interface RotateOptions extends Common {
  batch: number;
  throttleMs: number;
}

/** `keys rotate`: the master key, online and resumable; Ctrl-C stops after the current batch. */
async function rotate(o: RotateOptions): Promise<void> {
  const k = await openKeys(o, false);
  const controller = new AbortController();
  const onSigint = () => {
    process.off('SIGINT', onSigint); // a second Ctrl-C stops at once
    process.stderr.write('lockstep: stopping after the current batch (everything stays readable)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await rotateMasterKey({
      store: k.store, dataDir: k.dataDir, loaded: k.loaded, batch: o.batch, throttleMs: o.throttleMs, signal: controller.signal,
      log: (line) => process.stdout.write(line + '\n'),
    });
    const counts = `named keys ${r.rewrapped['kms-key']}, secret versions ${r.rewrapped.version}, access keys ${r.rewrapped['access-key']}, ` +
      `function environments ${r.rewrapped.function}`;
    if (!r.complete) {
      process.stdout.write(`rotation to master key ${r.target} not finished (re-wrapped ${counts}); run \`lockstep keys rotate\` again to continue\n`);
      process.exitCode = controller.signal.aborted ? 130 : 1;
      return;
    }
    process.stdout.write(`master key rotated: everything is sealed under ${r.target} (re-wrapped ${counts})\n`);
    if (r.unopenable.length > 0) {
      process.stderr.write(`lockstep: ${r.unopenable.length} stored values open under no master key and were left as they are:\n`);
      for (const u of r.unopenable.slice(0, 20)) process.stderr.write(`  ${u.kind} ${u.owner}${u.part ? ' ' + u.part : ''}\n`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSigint);
    await k.store.close();
  }
}

/** `lockstep keys ...`: named keys, aliases and the master key. */
export function keysCommand(): Command {
  const cmd = new Command('keys').description('Encryption keys: named keys and aliases (KmsKeyId), and rotation of the master key');
  common(cmd.command('create').description('Create a named key'))
    .option('--description <text>', 'what the key is for', '')
    .option('--alias <alias>', 'also create this alias (alias/<name>) for it')
    .action((o: Common & { description: string; alias?: string }) =>
      run(o, async ({ admin }) => ({ KeyMetadata: await createKey(admin, { description: o.description, alias: o.alias }) })),
    );
  common(cmd.command('list').description('List named keys with their aliases and state'))
    .action((o: Common) => run(o, async ({ admin }) => ({ Keys: await listKeys(admin) })));
  common(cmd.command('describe').description('Show one key').argument('<key>', 'key ID, key ARN, alias name or alias ARN'))
    .action((key: string, o: Common) => run(o, async ({ admin }) => ({ KeyMetadata: await describeKey(admin, key) })));
  common(cmd.command('disable').description('Disable a key: values sealed under it can no longer be read or written').argument('<key>', 'key ID, key ARN, alias name or alias ARN'))
    .action((key: string, o: Common) => run(o, async ({ admin }) => ({ KeyMetadata: await setKeyEnabled(admin, key, false) })));
  common(cmd.command('enable').description('Enable a disabled key again').argument('<key>', 'key ID, key ARN, alias name or alias ARN'))
    .action((key: string, o: Common) => run(o, async ({ admin }) => ({ KeyMetadata: await setKeyEnabled(admin, key, true) })));
  cmd.addCommand(aliasCommand());
  common(
    cmd
      .command('rotate')
      .description(
        'Rotate the master key online: a new key becomes active in master.key (the old ones stay, retired) and everything ' +
          'sealed under an old key is re-wrapped in batches. Resumable: run it again after an interruption.',
      ),
  )
    .addOption(new Option('--batch <n>', 'rows per transaction').argParser(wholeNumber('--batch', 1, 100_000)).default(200))
    .addOption(new Option('--throttle-ms <ms>', 'pause between batches, to spare a busy server').argParser(wholeNumber('--throttle-ms', 0, 60_000)).default(0))
    .action((o: RotateOptions) => rotate(o));
  return cmd;
}
