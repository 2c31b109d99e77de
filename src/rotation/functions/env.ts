import type { Logger } from 'pino';
import type { Keyring } from '../../crypto/keyring.js';
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
  /** Credentials a function runs with (the root key until access control lands). */
  functionCredentials: () => { accessKeyId: string; secretAccessKey: string };
}
