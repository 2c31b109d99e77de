import { createKey, type KeyMetadata } from '../../src/crypto/key-admin.js';
import type { TestServer } from './server.js';

/** Creates a named key, with an alias when given, in an in-process test server's data, as `lockstep keys create` does. */
export function createTestKey(srv: TestServer, alias?: string, description = ''): Promise<KeyMetadata> {
  const ctx = srv.app.ctx;
  return createKey({ store: ctx.store, master: ctx.keyring, kmsArnPrefix: ctx.kmsArnPrefix, accountId: ctx.accountId, now: Date.now }, { alias, description });
}
