import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Keyring } from '../../crypto/keyring.js';
import type { Store } from '../../storage/types.js';

/** What the Lambda-compatible API needs from the server. */
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

/** True for request paths the Lambda-compatible API serves. */
export function isLambdaPath(url: string): boolean {
  return url.startsWith('/2015-03-31/functions');
}

/**
 * Serves one Lambda API request (rest-json, `/2015-03-31/functions...`). `verify` checks the SigV4
 * signature for service `lambda` and throws on failure. The handler writes the whole response,
 * errors included, in Lambda's shape.
 */
export async function handleLambda(
  env: LambdaEnv,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  requestId: string,
  verify: () => void,
): Promise<void> {
  verify();
  const text = JSON.stringify({ Type: 'User', message: 'Function not found' });
  res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException', 'x-amzn-requestid': requestId });
  res.end(text);
  void env;
}
