import type { KmsAliasRecord, KmsKeyRecord, Store, Tx } from '../storage/types.js';
import type { Keyring } from './kek.js';
import { DEFAULT_KEY_ALIAS, aliasArn, aliasNameProblem, keyArn, newNamedKey, parseKeyRef } from './named-keys.js';

/*
 * Managing named keys and aliases (`lockstep keys ...`), on the store of a data directory. Results
 * have the shapes the aws CLI prints for KMS (KeyMetadata, Keys, Aliases); errors use KMS's words.
 */

/** What key administration works with. */
export interface KeyAdminEnv {
  store: Store;
  /** The master keys, which seal new keys' material. */
  master: Keyring;
  /** arn:<partition>:kms:<region>:<account>: */
  kmsArnPrefix: string;
  accountId: string;
  now(): number;
}

/** A key as `aws kms describe-key` shows it (the fields that mean something here). */
export interface KeyMetadata {
  AWSAccountId: string;
  KeyId: string;
  Arn: string;
  CreationDate: string;
  Enabled: boolean;
  Description: string;
  KeyState: 'Enabled' | 'Disabled';
  KeyUsage: 'ENCRYPT_DECRYPT';
  KeySpec: 'SYMMETRIC_DEFAULT';
  KeyManager: 'CUSTOMER';
  Origin: 'AWS_KMS';
  Aliases: string[];
}

/** An alias as `aws kms list-aliases` shows it; the default alias has no TargetKeyId (its key is the master key). */
export interface AliasEntry {
  AliasName: string;
  AliasArn: string;
  TargetKeyId?: string;
}

function metadata(env: KeyAdminEnv, k: KmsKeyRecord, aliases: KmsAliasRecord[]): KeyMetadata {
  return {
    AWSAccountId: env.accountId,
    KeyId: k.keyId,
    Arn: keyArn(env.kmsArnPrefix, k.keyId),
    CreationDate: new Date(k.createdMs).toISOString(),
    Enabled: k.enabled,
    Description: k.description,
    KeyState: k.enabled ? 'Enabled' : 'Disabled',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyManager: 'CUSTOMER',
    Origin: 'AWS_KMS',
    Aliases: aliases.filter((a) => a.keyId === k.keyId).map((a) => a.name),
  };
}

const DEFAULT_KEY_REFUSAL =
  `${DEFAULT_KEY_ALIAS} is the default key, which is the master key itself: it cannot be disabled, re-pointed or ` +
  'deleted. Rotate it with `lockstep keys rotate`.';

/** Finds the key a reference (key id, key ARN, alias name, alias ARN) names, or throws KMS's error. */
async function findKey(env: KeyAdminEnv, tx: Tx, ref: string, aliases = true): Promise<KmsKeyRecord> {
  if (ref === DEFAULT_KEY_ALIAS || ref === aliasArn(env.kmsArnPrefix, DEFAULT_KEY_ALIAS)) throw new Error(DEFAULT_KEY_REFUSAL);
  const parsed = parseKeyRef(ref, env.kmsArnPrefix);
  if (parsed.kind === 'invalid') throw new Error(`Invalid keyId ${ref}`);
  if (parsed.kind === 'foreign') throw new Error(`${parsed.arn} belongs to another Region or account than this data directory's`);
  let keyId: string;
  if (parsed.kind === 'alias') {
    if (!aliases) throw new Error(`${ref} is an alias: give the key ID or key ARN that the alias should point at`);
    const alias = await tx.keys.alias(parsed.alias);
    if (!alias) throw new Error(`Alias ${aliasArn(env.kmsArnPrefix, parsed.alias)} is not found.`);
    keyId = alias.keyId;
  } else {
    keyId = parsed.keyId;
  }
  const key = await tx.keys.key(keyId);
  if (!key) throw new Error(`Key '${keyArn(env.kmsArnPrefix, keyId)}' does not exist`);
  return key;
}

async function insertAlias(env: KeyAdminEnv, tx: Tx, name: string, keyId: string): Promise<void> {
  const problem = aliasNameProblem(name);
  if (problem) throw new Error(problem);
  if (await tx.keys.alias(name)) throw new Error(`An alias with the name ${aliasArn(env.kmsArnPrefix, name)} already exists`);
  await tx.keys.insertAlias({ name, keyId, createdMs: env.now() });
}

/** Creates a named key (fresh material sealed under the active master key), with an alias when given. */
export async function createKey(env: KeyAdminEnv, opts: { description?: string; alias?: string } = {}): Promise<KeyMetadata> {
  const key = newNamedKey(env.master, opts.description ?? '', env.now());
  return env.store.transaction(async (tx) => {
    await tx.keys.insertKey(key);
    if (opts.alias !== undefined) await insertAlias(env, tx, opts.alias, key.keyId);
    return metadata(env, key, await tx.keys.aliases());
  });
}

/** Every named key, oldest first, with its aliases. */
export async function listKeys(env: KeyAdminEnv): Promise<KeyMetadata[]> {
  return env.store.read(async (tx) => {
    const aliases = await tx.keys.aliases();
    return (await tx.keys.keys()).map((k) => metadata(env, k, aliases));
  });
}

/** One key, by any reference. */
export async function describeKey(env: KeyAdminEnv, ref: string): Promise<KeyMetadata> {
  return env.store.read(async (tx) => metadata(env, await findKey(env, tx, ref), await tx.keys.aliases()));
}

/** Enables or disables a key. Values sealed under a disabled key cannot be read or written until it is enabled again. */
export async function setKeyEnabled(env: KeyAdminEnv, ref: string, enabled: boolean): Promise<KeyMetadata> {
  return env.store.transaction(async (tx) => {
    const key = await findKey(env, tx, ref);
    await tx.keys.setEnabled(key.keyId, enabled);
    return metadata(env, { ...key, enabled }, await tx.keys.aliases());
  });
}

/** Creates an alias pointing at a key (given by key id or key ARN, as KMS's CreateAlias takes it). */
export async function createAlias(env: KeyAdminEnv, name: string, target: string): Promise<AliasEntry> {
  return env.store.transaction(async (tx) => {
    if (name === DEFAULT_KEY_ALIAS) throw new Error(DEFAULT_KEY_REFUSAL);
    const key = await findKey(env, tx, target, false);
    await insertAlias(env, tx, name, key.keyId);
    return { AliasName: name, AliasArn: aliasArn(env.kmsArnPrefix, name), TargetKeyId: key.keyId };
  });
}

/** Deletes an alias (the key stays; secrets that name the alias can no longer seal new values). */
export async function deleteAlias(env: KeyAdminEnv, name: string): Promise<void> {
  await env.store.transaction(async (tx) => {
    if (name === DEFAULT_KEY_ALIAS) throw new Error(DEFAULT_KEY_REFUSAL);
    if (!(await tx.keys.deleteAlias(name))) throw new Error(`Alias ${aliasArn(env.kmsArnPrefix, name)} is not found.`);
  });
}

/** Every alias by name, the default key's alias first. */
export async function listAliases(env: KeyAdminEnv): Promise<AliasEntry[]> {
  const named = await env.store.read((tx) => tx.keys.aliases());
  return [
    { AliasName: DEFAULT_KEY_ALIAS, AliasArn: aliasArn(env.kmsArnPrefix, DEFAULT_KEY_ALIAS) },
    ...named.map((a) => ({ AliasName: a.name, AliasArn: aliasArn(env.kmsArnPrefix, a.name), TargetKeyId: a.keyId })),
  ];
}
