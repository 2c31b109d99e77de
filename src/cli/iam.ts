import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { dataDirOption, wholeNumber } from './options.js';
import { isServiceError } from '../errors.js';
import { loadMasterKey } from '../crypto/keyring.js';
import { openStore } from '../storage/open.js';
import { rootArn, type Principal } from '../auth/principal.js';
import type { IamEnv } from '../iam/env.js';
import { runOperation } from '../iam/operation.js';
import { iamOperations } from '../iam/service.js';
import { isoSeconds, type XmlValue } from '../iam/xml.js';

/*
 * `lockstep iam ...`: IAM users, roles, access keys and inline policies, worked on the data
 * directory directly (also while servers run on it: they see new keys at once, and stop accepting
 * changed ones within a second). Each command runs the IAM API's own operation as root, so names,
 * policies and errors are checked exactly as over HTTP, and prints its result as the aws CLI does.
 */

interface Common {
  dataDir: string;
  accountId?: string;
}

const DEFAULT_ACCOUNT = '123456789012';

/** Opens the data directory for IAM work: its store, its master key, its account. */
async function openIam(o: Common): Promise<{ env: IamEnv; close(): Promise<void> }> {
  const dataDir = resolve(o.dataDir);
  if (!existsSync(join(dataDir, 'lockstep.sqlite'))) throw new Error(`no Lockstep data in ${dataDir} (start the server on it once)`);
  if (!process.env.LOCKSTEP_MASTER_KEY && !existsSync(join(dataDir, 'master.key'))) {
    throw new Error(`no master key: ${join(dataDir, 'master.key')} does not exist and LOCKSTEP_MASTER_KEY is not set`);
  }
  const { keyring } = loadMasterKey(dataDir);
  const store = openStore(process.env.LOCKSTEP_STORAGE || 'sqlite', dataDir);
  try {
    const meta = await store.read(async (tx) => ({ kek: await tx.meta.get('kek_id'), account: await tx.meta.get('account_id') }));
    if (meta.kek !== undefined && meta.kek !== keyring.active.id) {
      throw new Error(`the master key does not match the data directory ${dataDir}: it was created with key ${meta.kek}, and this key is ${keyring.active.id}`);
    }
    if (o.accountId !== undefined && meta.account !== undefined && o.accountId !== meta.account) {
      throw new Error(`the data directory belongs to account ${meta.account}, not ${o.accountId}`);
    }
    const accountId = o.accountId ?? meta.account ?? DEFAULT_ACCOUNT;
    return { env: { store, keyring, accountId, now: Date.now }, close: () => store.close() };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** A result as the aws CLI prints it: ISO timestamps, policy documents as JSON. */
function printable(v: XmlValue, key = ''): unknown {
  if (v instanceof Date) return isoSeconds(v);
  if (Array.isArray(v)) return v.map((x) => printable(x));
  if (typeof v === 'string' && (key === 'PolicyDocument' || key === 'AssumeRolePolicyDocument')) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, XmlValue>)) if (x !== undefined && x !== null) out[k] = printable(x, k);
  return out;
}

/** Runs one IAM operation as root on the data directory; returns its result. */
async function iam(o: Common, action: string, params: Record<string, string | number | undefined>): Promise<Record<string, XmlValue> | undefined> {
  const { env, close } = await openIam(o);
  try {
    const caller: Principal = { accessKeyId: 'lockstep-iam-cli', principalArn: rootArn(env.accountId), kind: 'root', accountId: env.accountId, userId: env.accountId };
    const given = Object.entries(params).filter(([, v]) => v !== undefined);
    const values = new Map(given.map(([k, v]) => [k, String(v)]));
    return await runOperation(env, iamOperations[action], `iam:${action}`, caller, (n) => values.get(n), [...values.keys()]);
  } catch (e) {
    if (isServiceError(e)) throw new Error(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    await close();
  }
}

/** Runs a listing to its end (IAM pages hold at most 1000 items), as one result. */
async function iamAll(o: Common, action: string, params: Record<string, string | undefined>, items: string): Promise<Record<string, XmlValue>> {
  const all: XmlValue[] = [];
  let marker: string | undefined;
  do {
    const out = await iam(o, action, { ...params, MaxItems: 1000, Marker: marker });
    all.push(...((out?.[items] as XmlValue[] | undefined) ?? []));
    marker = out?.IsTruncated === true ? (out.Marker as string) : undefined;
  } while (marker !== undefined);
  return { [items]: all };
}

function print(result: Record<string, XmlValue> | undefined): void {
  if (result !== undefined) process.stdout.write(JSON.stringify(printable(result), null, 2) + '\n');
}

/** A policy given as JSON text, a file, or file://<path>. */
function policyText(flag: string, value: string): string {
  if (value.trim().startsWith('{')) return value;
  const path = value.startsWith('file://') ? value.slice(7) : value;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${flag}: '${value}' is neither a JSON policy nor a readable file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A subcommand with --data-dir and --account-id. */
function sub(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .addOption(dataDirOption())
    .addOption(new Option('--account-id <id>', "the account in ARNs (default: the data directory's)").env('LOCKSTEP_ACCOUNT_ID'));
}

/** The user or role subcommands of inline policies (put/get/delete/list). */
function policyCommands(cmd: Command, kind: 'user' | 'role'): void {
  const K = kind === 'user' ? 'User' : 'Role';
  const member = `${K}Name`;
  sub(cmd, `put-${kind}-policy`, `add or replace an inline policy of a ${kind}`)
    .argument(`<${kind}-name>`)
    .requiredOption('--name <policy-name>', 'the policy name')
    .requiredOption('--policy <json|file>', 'the policy document: JSON, a file or file://<path>')
    .action(async (name: string, o: Common & { name: string; policy: string }) =>
      print(await iam(o, `Put${K}Policy`, { [member]: name, PolicyName: o.name, PolicyDocument: policyText('--policy', o.policy) })));
  sub(cmd, `get-${kind}-policy`, `print an inline policy of a ${kind}`)
    .argument(`<${kind}-name>`)
    .requiredOption('--name <policy-name>', 'the policy name')
    .action(async (name: string, o: Common & { name: string }) => print(await iam(o, `Get${K}Policy`, { [member]: name, PolicyName: o.name })));
  sub(cmd, `delete-${kind}-policy`, `delete an inline policy of a ${kind}`)
    .argument(`<${kind}-name>`)
    .requiredOption('--name <policy-name>', 'the policy name')
    .action(async (name: string, o: Common & { name: string }) => print(await iam(o, `Delete${K}Policy`, { [member]: name, PolicyName: o.name })));
  sub(cmd, `list-${kind}-policies`, `list the inline policies of a ${kind}`)
    .argument(`<${kind}-name>`)
    .action(async (name: string, o: Common) => print(await iamAll(o, `List${K}Policies`, { [member]: name }, 'PolicyNames')));
}

/** Writes an AWS credentials file (mode 0600), never over an existing file. */
function writeCredentialsFile(path: string, profile: string, id: string, secret: string): void {
  writeFileSync(path, `[${profile}]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`, { mode: 0o600, flag: 'wx' });
}

/** `lockstep iam`: users, roles, access keys and inline policies, on the data directory. */
export function iamCommand(): Command {
  const cmd = new Command('iam').description('IAM users, roles, access keys and inline policies, on the data directory (also while the server runs)');

  sub(cmd, 'create-user', 'create a user').argument('<user-name>').option('--path <path>', 'the path, e.g. /apps/ (default /)')
    .action(async (name: string, o: Common & { path?: string }) => print(await iam(o, 'CreateUser', { UserName: name, Path: o.path })));
  sub(cmd, 'delete-user', 'delete a user (it must have no access keys and no policies)').argument('<user-name>')
    .action(async (name: string, o: Common) => print(await iam(o, 'DeleteUser', { UserName: name })));
  sub(cmd, 'get-user', 'print a user').argument('<user-name>')
    .action(async (name: string, o: Common) => print(await iam(o, 'GetUser', { UserName: name })));
  sub(cmd, 'list-users', 'list users').option('--path-prefix <prefix>', 'only users whose path starts with this')
    .action(async (o: Common & { pathPrefix?: string }) => print(await iamAll(o, 'ListUsers', { PathPrefix: o.pathPrefix }, 'Users')));

  sub(cmd, 'create-access-key', 'create an access key for a user and print it (the only time its secret is shown)')
    .argument('<user-name>')
    .option('--credentials-file <path>', 'also write the pair to a new AWS credentials file (mode 0600); the secret is then not printed')
    .option('--profile <name>', 'the profile name in the credentials file', 'default')
    .action(async (name: string, o: Common & { credentialsFile?: string; profile: string }) => {
      if (o.credentialsFile !== undefined && existsSync(o.credentialsFile)) throw new Error(`--credentials-file: ${o.credentialsFile} exists; not overwriting it`);
      const out = await iam(o, 'CreateAccessKey', { UserName: name });
      const key = out?.AccessKey as Record<string, string>;
      if (o.credentialsFile !== undefined) {
        writeCredentialsFile(o.credentialsFile, o.profile, key.AccessKeyId, key.SecretAccessKey);
        const { SecretAccessKey: _secret, ...shown } = key;
        print({ AccessKey: shown, CredentialsFile: resolve(o.credentialsFile) });
        return;
      }
      print(out);
    });
  sub(cmd, 'list-access-keys', "list a user's access keys").argument('<user-name>')
    .action(async (name: string, o: Common) => print(await iamAll(o, 'ListAccessKeys', { UserName: name }, 'AccessKeyMetadata')));
  sub(cmd, 'update-access-key', 'activate or deactivate an access key').argument('<user-name>').argument('<access-key-id>')
    .addOption(new Option('--status <status>', 'Active or Inactive').choices(['Active', 'Inactive']).makeOptionMandatory())
    .action(async (name: string, id: string, o: Common & { status: string }) =>
      print(await iam(o, 'UpdateAccessKey', { UserName: name, AccessKeyId: id, Status: o.status })));
  sub(cmd, 'delete-access-key', 'delete an access key').argument('<user-name>').argument('<access-key-id>')
    .action(async (name: string, id: string, o: Common) => print(await iam(o, 'DeleteAccessKey', { UserName: name, AccessKeyId: id })));

  sub(cmd, 'create-role', 'create a role that principals named by its trust policy may assume')
    .argument('<role-name>')
    .requiredOption('--trust-policy <json|file>', 'the trust policy (AssumeRolePolicyDocument): JSON, a file or file://<path>')
    .option('--path <path>', 'the path (default /)')
    .option('--description <text>', 'a description')
    .addOption(new Option('--max-session-duration <seconds>', 'longest session, 3600 to 43200 (default 3600)').argParser(wholeNumber('--max-session-duration', 1)))
    .action(async (name: string, o: Common & { trustPolicy: string; path?: string; description?: string; maxSessionDuration?: number }) =>
      print(await iam(o, 'CreateRole', {
        RoleName: name, AssumeRolePolicyDocument: policyText('--trust-policy', o.trustPolicy), Path: o.path,
        Description: o.description, MaxSessionDuration: o.maxSessionDuration,
      })));
  sub(cmd, 'delete-role', 'delete a role (it must have no policies); its sessions stop working').argument('<role-name>')
    .action(async (name: string, o: Common) => print(await iam(o, 'DeleteRole', { RoleName: name })));
  sub(cmd, 'get-role', 'print a role').argument('<role-name>')
    .action(async (name: string, o: Common) => print(await iam(o, 'GetRole', { RoleName: name })));
  sub(cmd, 'list-roles', 'list roles').option('--path-prefix <prefix>', 'only roles whose path starts with this')
    .action(async (o: Common & { pathPrefix?: string }) => print(await iamAll(o, 'ListRoles', { PathPrefix: o.pathPrefix }, 'Roles')));

  policyCommands(cmd, 'user');
  policyCommands(cmd, 'role');
  return cmd;
}
