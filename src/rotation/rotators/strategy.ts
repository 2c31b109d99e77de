import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from '../../secrets/labels.js';
import type { RotationEvent } from '../registry.js';
import type { SecretsApi } from './secrets-api.js';
import { parseDbSecret, withCredentials, type DbSecret, type EngineFamily } from './secret-json.js';
import { DbError, type DatabaseDriver, type DbCredentials, type DbSession } from './types.js';

/*
 * The four steps of AWS's database rotation functions, for both strategies:
 * - single user: one user, whose password is changed in place by the user itself;
 * - alternating users: two users (`name` and `name_clone`, or `username` and `alternateUsername`)
 *   take turns; the master secret (`masterarn`) creates the partner, sets its password and keeps
 *   its privileges equal to the primary's, so the user in use is never touched in a way that breaks it.
 */

/** Which of the two strategies a built-in function uses. */
export type Strategy = 'single' | 'alternating';

/** A step that cannot complete; `restart` asks the engine for a fresh pending password. */
export class RotationStepError extends Error {
  constructor(
    message: string,
    readonly restart = false,
  ) {
    super(message);
    this.name = 'RotationStepError';
  }
}

/** What a database rotation function works with. */
export interface RotatorDeps {
  api: SecretsApi;
  driver: DatabaseDriver;
  family: EngineFamily;
  strategy: Strategy;
}

const PASSWORD_LENGTH = 32;

/** Runs one step of a database rotation, as AWS's functions do (same checks, same order). */
export async function runDatabaseStep(deps: RotatorDeps, event: RotationEvent): Promise<void> {
  const { api } = deps;
  const arn = event.SecretId;
  const token = event.ClientRequestToken;
  const meta = await api.call('DescribeSecret', { SecretId: arn });
  const versions: Record<string, string[]> = meta.VersionIdsToStages ?? {};
  if (!Object.hasOwn(versions, token)) {
    throw new RotationStepError(`version ${token} of the secret does not exist (the rotation was superseded)`);
  }
  if (versions[token].includes(AWSCURRENT)) return; // this rotation already finished
  if (!versions[token].includes(AWSPENDING)) {
    throw new RotationStepError(`version ${token} of the secret is not AWSPENDING (the rotation was superseded)`);
  }
  const r = new Rotator(deps, arn, token);
  switch (event.Step) {
    case 'createSecret':
      return r.createSecret();
    case 'setSecret':
      return r.setSecret();
    case 'testSecret':
      return r.testSecret();
    case 'finishSecret':
      return r.finishSecret(meta);
    default:
      throw new RotationStepError(`unknown step '${String(event.Step)}'`);
  }
}

class Rotator {
  private readonly driver: DatabaseDriver;

  constructor(
    private readonly deps: RotatorDeps,
    private readonly arn: string,
    private readonly token: string,
  ) {
    this.driver = deps.driver;
  }

  async createSecret(): Promise<void> {
    const current = await this.version(AWSCURRENT);
    const existing = await this.valueOf(this.arn, { VersionId: this.token, VersionStage: AWSPENDING });
    if (existing !== undefined) {
      this.parse(existing, 'AWSPENDING');
      return; // created by an earlier attempt
    }
    const username = this.deps.strategy === 'single' ? current.creds.username : partnerOf(current);
    if (username.length > this.driver.maxUsernameLength) {
      throw new RotationStepError(
        `the user name '${username}' is longer than ${this.driver.label} allows (${this.driver.maxUsernameLength} characters); ` +
          `use a shorter user name, or name a partner with 'alternateUsername'`,
      );
    }
    const { RandomPassword } = await this.deps.api.call('GetRandomPassword', {
      PasswordLength: PASSWORD_LENGTH,
      ExcludeCharacters: this.driver.excludeCharacters,
    });
    // An operator-created pair keeps naming the partner, which is now the user just left.
    const extra = current.alternateUsername !== undefined ? { alternateUsername: current.creds.username } : {};
    await this.deps.api.call('PutSecretValue', {
      SecretId: this.arn,
      ClientRequestToken: this.token,
      SecretString: withCredentials(current, username, RandomPassword, extra),
      VersionStages: [AWSPENDING],
    });
  }

  async setSecret(): Promise<void> {
    const current = await this.version(AWSCURRENT);
    const pending = await this.pending();
    this.checkPendingUser(current, pending);
    if (this.deps.strategy === 'single') return this.setSingle(current, pending);
    return this.setAlternating(current, pending);
  }

  private async setSingle(current: DbSecret, pending: DbSecret): Promise<void> {
    if (await this.logsIn(pending.creds)) return; // set by an earlier attempt
    const candidates: [string, DbSecret][] = [['AWSCURRENT', current]];
    const previousText = await this.valueOf(this.arn, { VersionStage: AWSPREVIOUS });
    if (previousText !== undefined) {
      try {
        const previous = this.parse(previousText, 'AWSPREVIOUS');
        if (previous.creds.username === current.creds.username) candidates.push(['AWSPREVIOUS', previous]);
      } catch {
        // An unusable AWSPREVIOUS is simply not a candidate.
      }
    }
    let session: DbSession | undefined;
    for (const [, s] of candidates) {
      session = await this.tryConnect({ ...s.creds, host: current.creds.host, port: current.creds.port });
      if (session) break;
    }
    if (!session) {
      throw new RotationStepError(
        `cannot log in to ${this.where(current.creds)} as '${current.creds.username}' with the AWSPENDING, AWSCURRENT or AWSPREVIOUS password`,
      );
    }
    try {
      await this.driver.setOwnPassword(session, current.creds, pending.creds.password);
    } catch (e) {
      throw this.explain(e, `changing the password of '${current.creds.username}'`);
    } finally {
      await session.close();
    }
  }

  private async setAlternating(current: DbSecret, pending: DbSecret): Promise<void> {
    const master = await this.master(current, pending);
    // The credentials in use must work before the master credentials are used at all.
    const probe = await this.tryConnect(current.creds);
    if (!probe) {
      throw new RotationStepError(
        `the AWSCURRENT credentials of '${current.creds.username}' do not log in to ${this.where(current.creds)}; ` +
          `the master credentials are not used until they do`,
      );
    }
    await probe.close();
    const m = await this.connect(master, 'the master secret');
    try {
      const target = pending.creds.username;
      if (!(await this.logsIn(pending.creds))) {
        if (await this.driver.userExists(m, target)) await this.driver.setPassword(m, target, pending.creds.password);
        else await this.driver.createUserLike(m, current.creds.username, target, pending.creds.password);
      }
      const [primary, secondary] = pairOf(current);
      if ((await this.driver.userExists(m, primary)) && (await this.driver.userExists(m, secondary))) {
        await this.driver.syncPrivileges(m, primary, secondary, current.creds.dbname);
      }
    } catch (e) {
      throw this.explain(e, `preparing '${pending.creds.username}' with the master credentials`);
    } finally {
      await m.close();
    }
  }

  async testSecret(): Promise<void> {
    const pending = await this.pending();
    const s = await this.connect(pending.creds, 'the AWSPENDING secret');
    try {
      await this.driver.probe(s);
    } catch (e) {
      throw this.explain(e, `querying as '${pending.creds.username}'`);
    } finally {
      await s.close();
    }
    if (this.deps.strategy !== 'alternating') return;
    const current = await this.version(AWSCURRENT);
    const partner = current.creds.username === pending.creds.username ? partnerOf(current) : current.creds.username;
    const master = await this.master(current, pending);
    const m = await this.connect(master, 'the master secret');
    try {
      const diff = await this.driver.privilegeDifferences(m, partner, pending.creds.username, current.creds.dbname);
      if (diff.length > 0) {
        const shown = diff.slice(0, 5).join('; ');
        throw new RotationStepError(
          `'${pending.creds.username}' does not have the same privileges as '${partner}': ${shown}` +
            (diff.length > 5 ? ` (and ${diff.length - 5} more)` : ''),
        );
      }
    } catch (e) {
      throw this.explain(e, `comparing the privileges of '${pending.creds.username}' and '${partner}'`);
    } finally {
      await m.close();
    }
  }

  async finishSecret(meta: Record<string, any>): Promise<void> {
    const versions: Record<string, string[]> = meta.VersionIdsToStages ?? {};
    const currentVersion = Object.keys(versions).find((v) => versions[v].includes(AWSCURRENT));
    if (currentVersion === this.token) return;
    await this.deps.api.call('UpdateSecretVersionStage', {
      SecretId: this.arn,
      VersionStage: AWSCURRENT,
      MoveToVersionId: this.token,
      ...(currentVersion ? { RemoveFromVersionId: currentVersion } : {}),
    });
  }

  /** The pending version's secret. */
  private async pending(): Promise<DbSecret> {
    const text = await this.valueOf(this.arn, { VersionId: this.token, VersionStage: AWSPENDING });
    if (text === undefined) throw new RotationStepError(`the AWSPENDING version ${this.token} has no value yet (createSecret did not run)`);
    return this.parse(text, 'AWSPENDING');
  }

  private checkPendingUser(current: DbSecret, pending: DbSecret): void {
    const allowed = this.deps.strategy === 'single' ? [current.creds.username] : [current.creds.username, partnerOf(current)];
    if (!allowed.includes(pending.creds.username)) {
      throw new RotationStepError(
        `the AWSPENDING user '${pending.creds.username}' is not ${allowed.map((u) => `'${u}'`).join(' or ')}; refusing to change another user's password`,
      );
    }
    if (!sameServer(pending.creds, current.creds)) {
      throw new RotationStepError(
        `the AWSPENDING secret names ${this.where(pending.creds)}, but AWSCURRENT names ${this.where(current.creds)}; refusing to change a password on another server`,
      );
    }
  }

  /** The master secret's credentials, on the database of the secret being rotated. */
  private async master(current: DbSecret, pending: DbSecret): Promise<DbCredentials> {
    const arn = current.masterArn ?? pending.masterArn;
    if (!arn) {
      throw new RotationStepError(
        `alternating-users rotation needs 'masterarn' in the secret: the ARN of a secret whose user can create users and grant privileges`,
      );
    }
    const text = await this.valueOf(arn, { VersionStage: AWSCURRENT }).catch((e: Error) => {
      throw new RotationStepError(`cannot read the master secret '${arn}': ${e.message}`);
    });
    if (text === undefined) throw new RotationStepError(`cannot read the master secret '${arn}': it has no AWSCURRENT value`);
    const master = this.parse(text, 'master');
    if (!sameServer(master.creds, current.creds)) {
      throw new RotationStepError(
        `the master secret names ${this.where(master.creds)}, but the secret names ${this.where(current.creds)}; refusing to use the master credentials on another server`,
      );
    }
    return { ...master.creds, dbname: current.creds.dbname ?? master.creds.dbname, ssl: master.creds.ssl || current.creds.ssl };
  }

  private async version(stage: string): Promise<DbSecret> {
    const text = await this.valueOf(this.arn, { VersionStage: stage });
    if (text === undefined) throw new RotationStepError(`the secret has no ${stage} value`);
    return this.parse(text, stage);
  }

  private parse(text: string, where: string): DbSecret {
    try {
      return parseDbSecret(text, where, this.deps.family, this.driver.defaultPort);
    } catch (e) {
      throw new RotationStepError((e as Error).message);
    }
  }

  /** A version's SecretString, or undefined when there is no such version or it has no value. */
  private async valueOf(secretId: string, sel: Record<string, string>): Promise<string | undefined> {
    try {
      const out = await this.deps.api.call('GetSecretValue', { SecretId: secretId, ...sel });
      return typeof out.SecretString === 'string' ? out.SecretString : undefined;
    } catch (e) {
      if ((e as { code?: string }).code === 'ResourceNotFoundException' && secretId === this.arn) return undefined;
      throw e;
    }
  }

  /** True when the credentials log in; false when the password is refused; other failures are thrown. */
  private async logsIn(c: DbCredentials): Promise<boolean> {
    const s = await this.tryConnect(c);
    if (!s) return false;
    await s.close();
    return true;
  }

  private async tryConnect(c: DbCredentials): Promise<DbSession | undefined> {
    try {
      return await this.driver.connect(c);
    } catch (e) {
      if (e instanceof DbError && e.kind === 'auth') return undefined;
      throw this.explain(e);
    }
  }

  private async connect(c: DbCredentials, what: string): Promise<DbSession> {
    try {
      return await this.driver.connect(c);
    } catch (e) {
      if (e instanceof DbError && e.kind === 'auth') {
        throw new RotationStepError(`the credentials of ${what} ('${c.username}') do not log in to ${this.where(c)}`);
      }
      throw this.explain(e);
    }
  }

  /** A failure as a step error; `doing` is added to database errors other than connection failures. */
  private explain(e: unknown, doing?: string): Error {
    if (e instanceof RotationStepError) return e;
    if (e instanceof DbError) {
      if (e.kind === 'rejected-password') {
        return new RotationStepError(`${this.driver.label} refused the new password${doing ? ` while ${doing}` : ''} (${e.message}); the next attempt uses a fresh password`, true);
      }
      return new RotationStepError(doing ? `${e.message} (while ${doing})` : e.message);
    }
    return e instanceof Error ? e : new Error(String(e));
  }

  private where(c: DbCredentials): string {
    return `${this.driver.label} at ${c.host}:${c.port}`;
  }
}

/** The other user of an alternating pair: `alternateUsername`, else `name` <-> `name_clone`. */
export function partnerOf(s: DbSecret): string {
  if (s.alternateUsername !== undefined) return s.alternateUsername;
  const u = s.creds.username;
  return u.endsWith('_clone') && u.length > '_clone'.length ? u.slice(0, -'_clone'.length) : `${u}_clone`;
}

/**
 * The pair as [primary, secondary]: privileges flow from the primary to the secondary. For
 * `name`/`name_clone` the primary is `name`; for an operator-created pair it is the user in use.
 */
export function pairOf(current: DbSecret): [string, string] {
  const partner = partnerOf(current);
  if (current.alternateUsername !== undefined) return [current.creds.username, partner];
  return current.creds.username.endsWith('_clone') ? [partner, current.creds.username] : [current.creds.username, partner];
}

function sameServer(a: DbCredentials, b: DbCredentials): boolean {
  return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;
}
