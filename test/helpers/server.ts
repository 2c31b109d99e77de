import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startLockstep, type Lockstep } from '../../src/server/app.js';
import type { EngineOptions } from '../../src/rotation/engine.js';
import type { ModuleHandler } from '../../src/rotation/registry.js';

/** A server started for one test file, on an ephemeral port with its own data directory. */
export interface TestServer {
  endpoint: string;
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  dataDir: string;
  client(): SecretsManagerClient;
  stop(): Promise<void>;
  /** The running server (module rotation functions, the engine). */
  app: Lockstep;
}

/** Starts a real Lockstep server in this process, listening on 127.0.0.1 and a free port. */
export async function startServer(
  opts: {
    env?: Record<string, string>; now?: () => number; dataDir?: string; rotation?: EngineOptions;
    moduleFunctions?: Record<string, ModuleHandler>;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'lockstep-test-'));
  const region = 'us-east-1';
  const accountId = '123456789012';
  const app = await startLockstep({
    port: 0, host: '127.0.0.1', dataDir, region, accountId, env: opts.env ?? {}, now: opts.now, rotation: opts.rotation, moduleFunctions: opts.moduleFunctions,
  });
  const credentials = { ...app.credentials.root };
  const clients: SecretsManagerClient[] = [];
  return {
    endpoint: app.url,
    region,
    accountId,
    credentials,
    dataDir,
    app,
    client() {
      const c = new SecretsManagerClient({ endpoint: app.url, region, credentials, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
