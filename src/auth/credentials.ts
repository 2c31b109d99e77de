import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Keyring } from '../crypto/keyring.js';
import { openValue, sealValue } from '../crypto/envelope.js';
import type { Store } from '../storage/types.js';

const KEY_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ROOT = 'root';

/** An access key pair. */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** In-memory view of the access keys: secret parts opened once at start-up. */
export interface Credentials {
  lookup(accessKeyId: string): string | undefined;
  principalOf(accessKeyId: string): string | undefined;
  root: AccessKey;
  rootFile: string;
}

function sealContext(accessKeyId: string) {
  return { secretArn: `lockstep:access-key:${accessKeyId}`, versionId: 'secret' };
}

/** A new access key in AWS's shape: 20-character id, 40-character secret. */
export function newAccessKey(prefix = 'LKIA'): AccessKey {
  let id = prefix;
  while (id.length < 20) id += KEY_ID_CHARS[randomInt(KEY_ID_CHARS.length)];
  return { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B') };
}

function credentialsFile(k: AccessKey): string {
  return `[default]\naws_access_key_id = ${k.accessKeyId}\naws_secret_access_key = ${k.secretAccessKey}\n`;
}

/**
 * Loads the access keys, creating the root key on first start (or taking it from
 * LOCKSTEP_ROOT_ACCESS_KEY_ID / LOCKSTEP_ROOT_SECRET_ACCESS_KEY), and keeps
 * <dataDir>/root-credentials (mode 0600) in the AWS credentials-file format.
 */
export async function loadCredentials(
  store: Store,
  keyring: Keyring,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials> {
  const envId = env.LOCKSTEP_ROOT_ACCESS_KEY_ID;
  const envSecret = env.LOCKSTEP_ROOT_SECRET_ACCESS_KEY;
  if ((envId && !envSecret) || (!envId && envSecret)) {
    throw new Error('set both LOCKSTEP_ROOT_ACCESS_KEY_ID and LOCKSTEP_ROOT_SECRET_ACCESS_KEY, or neither');
  }
  if (envId && !/^[A-Za-z0-9]{16,128}$/.test(envId)) {
    throw new Error('LOCKSTEP_ROOT_ACCESS_KEY_ID must be 16 to 128 letters and digits');
  }
  const keys = await store.transaction(async (tx) => {
    let all = await tx.identity.accessKeys();
    const roots = all.filter((k) => k.principal === ROOT);
    const wanted: AccessKey | undefined = envId && envSecret ? { accessKeyId: envId, secretAccessKey: envSecret } : undefined;
    if (wanted || roots.length === 0) {
      for (const r of roots) await tx.identity.deleteAccessKey(r.accessKeyId);
      const k = wanted ?? newAccessKey();
      await tx.identity.putAccessKey({
        accessKeyId: k.accessKeyId,
        sealedSecret: sealValue(keyring, { kind: 'string', text: k.secretAccessKey }, sealContext(k.accessKeyId)),
        principal: ROOT,
        createdMs: Date.now(),
        status: 'Active',
      });
      all = await tx.identity.accessKeys();
    }
    return all;
  });
  const secrets = new Map<string, { secret: string; principal: string }>();
  let root: AccessKey | undefined;
  for (const k of keys) {
    if (k.status !== 'Active') continue;
    const v = openValue(keyring, k.sealedSecret, sealContext(k.accessKeyId));
    if (v.kind !== 'string') continue;
    secrets.set(k.accessKeyId, { secret: v.text, principal: k.principal });
    if (k.principal === ROOT) root = { accessKeyId: k.accessKeyId, secretAccessKey: v.text };
  }
  if (!root) throw new Error('no root access key');
  const rootFile = join(dataDir, 'root-credentials');
  const text = credentialsFile(root);
  if (!existsSync(rootFile) || envId) writeFileSync(rootFile, text, { mode: 0o600 });
  chmodSync(rootFile, 0o600);
  return {
    lookup: (id) => secrets.get(id)?.secret,
    principalOf: (id) => secrets.get(id)?.principal,
    root,
    rootFile,
  };
}
