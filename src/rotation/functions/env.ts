import type { Logger } from 'pino';
import type { Keyring } from '../../crypto/keyring.js';
import type { IamEnv } from '../../iam/env.js';
import type { AuditRecord } from '../../monitoring/audit.js';
import type { Store } from '../../storage/types.js';

/** What the Lambda-compatible API and the process runtime need from the server. */
export interface LambdaEnv {
  store: Store;
  keyring: Keyring;
  region: string;
  accountId: string;
  dataDir: string;
  now: () => number;
  logger?: Logger;
  /** The server's own URL (AWS_ENDPOINT_URL of functions); known once the server listens. */
  endpointUrl: () => string;
  /**
   * The server's authenticator, told when an invocation's keys are issued and revoked so that they
   * work, and stop working, at once. (Functions run with keys of their execution role.)
   */
  auth?: IamEnv['auth'];
  /** True once the server is shutting down: no invocation starts any more. */
  closing?: () => boolean;
  /** Writes an API call's audit record; the call is answered only once it resolves. */
  audit?: (record: AuditRecord) => Promise<void>;
}
