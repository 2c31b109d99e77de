import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/*
 * Credentials that survive rotation. An application asks for the credentials behind a secret, uses
 * them, and when the database refuses them (authentication failure) asks again: the refresher reads
 * AWSCURRENT, and if that is still the version that just failed (a single-user rotation between
 * setSecret and finishSecret), AWSPENDING, whose password the database already has.
 */

/** A secret's JSON credentials and the version they came from. */
export interface VersionedCredentials<T = Record<string, any>> {
  versionId: string;
  stage: 'AWSCURRENT' | 'AWSPENDING';
  value: T;
}

/** Where credentials come from: the current ones, and fresh ones after `failed` was refused. */
export interface CredentialsSource<T = Record<string, any>> {
  get(): Promise<VersionedCredentials<T>>;
  refresh(failed?: VersionedCredentials<T>): Promise<VersionedCredentials<T>>;
}

/** Options of a CredentialRefresher. */
export interface RefresherOptions {
  client: Pick<SecretsManagerClient, 'send'>;
  secretId: string;
  /** Try AWSPENDING when AWSCURRENT is the version that failed (default true). */
  pendingFallback?: boolean;
}

/** Caches one secret's credentials by version and refreshes them after an authentication failure. */
export class CredentialRefresher<T = Record<string, any>> implements CredentialsSource<T> {
  private cached: VersionedCredentials<T> | undefined;
  private inflight: Promise<VersionedCredentials<T>> | undefined;

  constructor(private readonly opts: RefresherOptions) {}

  /** The cached credentials, fetched (AWSCURRENT) on first use. */
  async get(): Promise<VersionedCredentials<T>> {
    return this.cached ?? this.refresh();
  }

  /**
   * Fetches again after `failed` was refused; concurrent callers share one fetch. Returns AWSPENDING
   * when AWSCURRENT is still the failed version and a pending version exists.
   */
  async refresh(failed?: VersionedCredentials<T>): Promise<VersionedCredentials<T>> {
    if (failed && this.cached && this.cached.versionId !== failed.versionId) return this.cached; // already refreshed
    this.inflight ??= this.fetch(failed).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetch(failed?: VersionedCredentials<T>): Promise<VersionedCredentials<T>> {
    let next = await this.read('AWSCURRENT');
    if (failed && next?.versionId === failed.versionId && (this.opts.pendingFallback ?? true)) {
      // No AWSPENDING any more: the rotation finished between the two reads, so AWSCURRENT moved.
      next = (await this.read('AWSPENDING')) ?? (await this.read('AWSCURRENT')) ?? next;
    }
    if (!next) throw new Error(`secret ${this.opts.secretId} has no AWSCURRENT value`);
    this.cached = next;
    return next;
  }

  private async read(stage: 'AWSCURRENT' | 'AWSPENDING'): Promise<VersionedCredentials<T> | undefined> {
    try {
      const out = await this.opts.client.send(new GetSecretValueCommand({ SecretId: this.opts.secretId, VersionStage: stage }));
      if (typeof out.SecretString !== 'string' || !out.VersionId) return undefined;
      return { versionId: out.VersionId, stage, value: JSON.parse(out.SecretString) as T };
    } catch (e) {
      if (stage === 'AWSPENDING' && (e as { name?: string }).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }
}

const AUTH_CODES = new Set(['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);
const AUTH_ERRNOS = new Set([1045, 1698]);

/** True for a database's "these credentials are refused" (PostgreSQL 28P01/28000, MySQL/MariaDB 1045). */
export function isAuthFailure(e: unknown): boolean {
  const err = e as { code?: unknown; errno?: unknown };
  return (typeof err?.code === 'string' && AUTH_CODES.has(err.code)) || (typeof err?.errno === 'number' && AUTH_ERRNOS.has(err.errno));
}

/**
 * Runs `fn` with the current credentials; on an authentication failure refreshes them and tries
 * again, at most `retries` times (default 3). Other errors pass through untouched.
 */
export async function withCredentialRefresh<R, T = Record<string, any>>(
  refresher: CredentialsSource<T>,
  fn: (creds: T) => Promise<R>,
  opts: { retries?: number; isAuthError?: (e: unknown) => boolean } = {},
): Promise<R> {
  const retries = opts.retries ?? 3;
  const isAuth = opts.isAuthError ?? isAuthFailure;
  let creds = await refresher.get();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(creds.value);
    } catch (e) {
      if (!isAuth(e) || attempt >= retries) throw e;
      creds = await refresher.refresh(creds);
    }
  }
}
