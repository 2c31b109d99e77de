import { createHash, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import { ServiceError } from '../errors.js';
import type { Store } from '../storage/types.js';
import { parsePolicy } from '../policy/parse.js';
import type { Policy } from '../policy/types.js';
import { TtlCache } from './key-cache.js';
import { policyOwnerArn, type Principal } from './principal.js';
import { resolveKey, type ResolvedKey } from './resolve-key.js';
import { createSigV4Verifier, SigV4Messages, type IncomingSignedRequest } from './sigv4.js';

/*
 * Authentication: SigV4 verification against the access keys in the store, and who the signer is.
 *
 * Keys are resolved from the store when a request names them and kept, opened, for at most
 * `keyTtlMs` (1 s): a key created at run time (by the IAM API, by `lockstep iam` in another process,
 * by another worker) works at once, and one deactivated, deleted or whose user was deleted stops
 * working within that lifetime everywhere, and at once in the process that changed it (through
 * `invalidateKey` / `invalidatePrincipal`). A cached key costs no store read, so the hot path stays a
 * map lookup. Temporary keys must come with their session token (X-Amz-Security-Token, signed),
 * and stop at their expiry by the server's clock.
 */

/** The signing names the server answers for. */
export const SIGNING_SERVICES = ['secretsmanager', 'lambda', 'iam', 'sts'] as const;

/** AWS's answers for temporary credentials that are past their expiry. */
export const AuthMessages = {
  expiredToken: 'The security token included in the request is expired',
} as const;

/** Configuration of an authenticator. */
export interface AuthenticatorOptions {
  store: Store;
  keyring: Keyring;
  region: string;
  accountId: string;
  /** The server's clock (SigV4 skew, expiry of temporary keys); default Date.now. */
  now?: () => number;
  /** How long a resolved key is trusted before it is read again, in ms (default 1000). */
  keyTtlMs?: number;
}

/** Verifies requests and tells who signed them. */
export interface Authenticator {
  /**
   * Makes sure the key a request names is loaded and fresh. Undefined when it already is (the
   * usual case: nothing to await); otherwise a promise to await before `verify`.
   */
  prepare(headers: IncomingSignedRequest['headers']): Promise<void> | undefined;
  /**
   * Verifies a request for a signing name, with the key as `prepare` loaded it; returns the
   * principal or throws ServiceError (AWS's awsJson codes; the query protocol renames them).
   */
  verify(req: IncomingSignedRequest, service: string): Principal;
  /** `prepare` then `verify`. */
  authenticate(req: IncomingSignedRequest, service: string): Promise<Principal>;
  /** Forgets one key at once (after it was changed or deleted in this process). */
  invalidateKey(accessKeyId: string): void;
  /** Forgets every key of a user or role at once (its ARN), and anything cached about it. */
  invalidatePrincipal(arn: string): void;
  /**
   * The identity policies of a principal (a user's inline policies, a session's role's), parsed;
   * none for root. Cached like keys; `invalidatePolicies` forgets one owner's at once.
   */
  identityPolicies(p: Principal): Promise<readonly Policy[]>;
  /** Forgets the cached policies of a user or role (its ARN) at once. */
  invalidatePolicies(arn: string): void;
}

/** The access key id an Authorization header names (`Credential=<id>/...`), if any. */
export function accessKeyIdOf(authorization: string | string[] | undefined): string | undefined {
  const h = Array.isArray(authorization) ? authorization[0] : authorization;
  if (h === undefined) return undefined;
  const at = h.indexOf('Credential=');
  if (at < 0) return undefined;
  const start = at + 11;
  const end = h.indexOf('/', start);
  if (end <= start || end - start > 128) return undefined;
  const id = h.slice(start, end);
  return /^[A-Za-z0-9]+$/.test(id) ? id : undefined;
}

const unrecognized = () => new ServiceError('UnrecognizedClientException', SigV4Messages.unrecognizedClient, 400);

/** One header of a request; names are node-style (lower-cased), as IncomingSignedRequest states. */
function header(headers: IncomingSignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Creates an authenticator over the store's access keys. */
export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const now = opts.now ?? Date.now;
  const keys = new TtlCache<string, ResolvedKey>(
    (id, previous) => opts.store.read((tx) => resolveKey(tx, opts.keyring, opts.accountId, id, previous)),
    { ttlMs: opts.keyTtlMs ?? 1000 },
  );
  const policies = new TtlCache<string, readonly Policy[]>(
    async (arn) => {
      const docs = await opts.store.read((tx) => tx.identity.policies(arn));
      return docs.map((d) => parsePolicy(d.document, { kind: 'identity', name: d.name }));
    },
    { ttlMs: opts.keyTtlMs ?? 1000 },
  );
  const verifier = createSigV4Verifier({
    region: opts.region,
    services: [...SIGNING_SERVICES],
    lookupSecret: (id) => keys.peek(id)?.secret,
    now,
  });

  function prepare(headers: IncomingSignedRequest['headers']): Promise<void> | undefined {
    const id = accessKeyIdOf(headers.authorization);
    return id === undefined ? undefined : keys.ensure(id);
  }

  function verify(req: IncomingSignedRequest, service: string): Principal {
    const { accessKeyId } = verifier.verify(req, service);
    const key = keys.peek(accessKeyId);
    if (key === undefined) throw unrecognized(); // evicted between prepare and verify: answer as for an unknown key
    const token = header(req.headers, 'x-amz-security-token');
    if (key.tokenHash === undefined) {
      // A long-term key with a session token is refused, as AWS refuses it.
      if (token !== undefined) throw unrecognized();
      return key.principal;
    }
    if (token === undefined || key.tokenHash.length !== 32 || !timingSafeEqual(sha256(token), key.tokenHash)) throw unrecognized();
    if (key.expiresMs !== undefined && now() >= key.expiresMs) throw new ServiceError('ExpiredTokenException', AuthMessages.expiredToken, 400);
    return key.principal;
  }

  return {
    prepare,
    verify,
    async authenticate(req, service) {
      const p = prepare(req.headers);
      if (p !== undefined) await p;
      return verify(req, service);
    },
    invalidateKey: (id) => keys.invalidate(id),
    invalidatePrincipal(arn) {
      keys.invalidateWhere((k) => k.principal.principalArn === arn || k.principal.session?.roleArn === arn);
      policies.invalidate(arn);
    },
    async identityPolicies(p) {
      const owner = policyOwnerArn(p);
      return owner === undefined ? [] : ((await policies.get(owner)) ?? []);
    },
    invalidatePolicies: (arn) => policies.invalidate(arn),
  };
}
