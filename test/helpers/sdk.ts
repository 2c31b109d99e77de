import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startServer, type TestServer } from './server.js';

/*
 * What the SDK-driven end-to-end tests share: a server and client per test file, a client signing on a
 * shifted clock, and the check of a call that must fail.
 */

/** The fields of an SDK service error the tests look at. */
export interface AwsError {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Awaits a call that must fail, and checks its code, message and HTTP status. `code` may list several
 * acceptable codes; `message` is compared exactly (a string) or matched (a RegExp).
 */
export async function rejects(
  p: Promise<unknown>,
  code: string | string[],
  message?: string | RegExp,
  status = 400,
): Promise<AwsError> {
  let err: AwsError | undefined;
  try {
    await p;
  } catch (e) {
    err = e as AwsError;
  }
  if (Array.isArray(code)) {
    assert.ok(err, `expected ${code.join(' or ')}, but the call succeeded`);
    assert.ok(code.includes(err.name), `unexpected error code ${err.name} (message: ${err.message})`);
  } else {
    assert.ok(err, `expected ${code}, but the call succeeded`);
    assert.equal(err.name, code, `unexpected error code (message: ${err.message})`);
  }
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
  assert.equal(err.$metadata?.httpStatusCode, status);
  return err;
}

/**
 * An SDK client for `srv` that signs with the clock `offset()` ms ahead of real time (the server's
 * injected clock). The SDK re-estimates its clock offset from each response's Date header; this pins
 * it to ours before signing.
 */
export function pinnedClockClient(srv: TestServer, offset: () => number): SecretsManagerClient {
  const c = new SecretsManagerClient({ endpoint: srv.endpoint, region: srv.region, credentials: srv.credentials, maxAttempts: 1 });
  c.middlewareStack.add(
    (next) => async (args) => {
      (c.config as { systemClockOffset: number }).systemClockOffset = offset();
      return next(args);
    },
    { step: 'initialize', name: 'pinClockOffset' },
  );
  return c;
}

/** The server and SDK client of one test file. */
export interface ServerAndClient {
  srv: TestServer;
  sm: SecretsManagerClient;
}

export interface UseServerOptions {
  /** Passed to `startServer`. */
  now?: () => number;
  dataDir?: string;
  env?: Record<string, string>;
  /** Makes the client (default `srv.client()`); a client made here is destroyed before the server stops. */
  client?: (srv: TestServer) => SecretsManagerClient;
}

/**
 * Registers the file's `before` / `after` hooks: starts a server and an SDK client before the tests
 * (handing both to `ready`) and stops them after.
 */
export function useServer(ready: (s: ServerAndClient) => void, opts: UseServerOptions = {}): void {
  let srv: TestServer | undefined;
  let sm: SecretsManagerClient | undefined;
  before(async () => {
    srv = await startServer({ now: opts.now, dataDir: opts.dataDir, env: opts.env });
    sm = opts.client ? opts.client(srv) : srv.client();
    ready({ srv, sm });
  });
  after(async () => {
    if (opts.client) sm?.destroy();
    await srv?.stop();
  });
}
