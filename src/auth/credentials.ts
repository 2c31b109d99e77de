import { existsSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Keyring } from '../crypto/keyring.js';
import type { Store } from '../storage/types.js';
import { newAccessKey, openKeySecret, sealKeySecret, type AccessKey } from './access-keys.js';

export { newAccessKey, type AccessKey } from './access-keys.js';

/** The principal column of the root key. */
export const ROOT_PRINCIPAL = 'root';

/**
 * The root credentials. Every other key (users', temporary ones) is resolved from the store when a
 * request names it (see authenticator.ts), so keys created at run time work at once.
 */
export interface Credentials {
  root: AccessKey;
  rootFile: string;
}

function credentialsFile(k: AccessKey): string {
  return `[default]\naws_access_key_id = ${k.accessKeyId}\naws_secret_access_key = ${k.secretAccessKey}\n`;
}

/**
 * Loads the root key, creating it on first start (or taking it from LOCKSTEP_ROOT_ACCESS_KEY_ID /
 * LOCKSTEP_ROOT_SECRET_ACCESS_KEY), and keeps <dataDir>/root-credentials (mode 0600) in the AWS
 * credentials-file format.
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
  const roots = await store.transaction(async (tx) => {
    let mine = await tx.identity.accessKeysOf(ROOT_PRINCIPAL);
    const wanted: AccessKey | undefined = envId && envSecret ? { accessKeyId: envId, secretAccessKey: envSecret } : undefined;
    if (wanted || mine.length === 0) {
      for (const r of mine) await tx.identity.deleteAccessKey(r.accessKeyId);
      const k = wanted ?? newAccessKey();
      if (wanted) {
        const taken = await tx.identity.accessKey(k.accessKeyId);
        if (taken) throw new Error(`LOCKSTEP_ROOT_ACCESS_KEY_ID ${k.accessKeyId} is already the id of another key`);
      }
      await tx.identity.putAccessKey({
        accessKeyId: k.accessKeyId,
        sealedSecret: sealKeySecret(keyring, k.accessKeyId, k.secretAccessKey),
        principal: ROOT_PRINCIPAL,
        createdMs: Date.now(),
        status: 'Active',
      });
      mine = await tx.identity.accessKeysOf(ROOT_PRINCIPAL);
    }
    return mine;
  });
  const active = roots.find((k) => k.status === 'Active');
  if (!active) throw new Error('no root access key');
  const root: AccessKey = { accessKeyId: active.accessKeyId, secretAccessKey: openKeySecret(keyring, active) };
  const rootFile = join(dataDir, 'root-credentials');
  const text = credentialsFile(root);
  if (!existsSync(rootFile) || envId) writeFileSync(rootFile, text, { mode: 0o600 });
  chmodSync(rootFile, 0o600);
  return { root, rootFile };
}
