/** A secret's metadata as stored (values live in versions, sealed). Times are epoch milliseconds. */
export interface SecretRecord {
  id: number;
  arn: string;
  name: string;
  description: string | null;
  kmsKeyId: string | null;
  createdMs: number;
  lastChangedMs: number;
  lastAccessedMs: number | null;
  deletedMs: number | null; // when deletion was requested
  deletionMs: number | null; // when the secret will be purged
  rotationEnabled: boolean | null;
  rotationLambdaArn: string | null;
  rotationRules: string | null; // JSON of RotationRules
  lastRotatedMs: number | null;
  nextRotationMs: number | null; // what DescribeSecret shows: the end of the next rotation window
  rotationDueMs: number | null; // when the scheduler starts that rotation: the window's start
  owningService: string | null;
  primaryRegion: string;
  resourcePolicy: string | null;
  tagged: boolean; // tags were ever set: DescribeSecret then shows Tags even when empty
}

/** A new secret before it has an id. */
export type NewSecret = Omit<SecretRecord, 'id'>;

/** One version of a secret: sealed value (null for a placeholder) and its staging labels. */
export interface VersionRecord {
  versionId: string;
  createdMs: number;
  lastAccessedMs: number | null;
  sealed: Buffer | null;
  kmsKeyIds: string[];
  stages: string[]; // sorted
}

/** A tag as AWS models it. */
export interface Tag {
  Key: string;
  Value: string;
}

/** A secret with everything that describes it, but no values. */
export interface SecretAggregate {
  secret: SecretRecord;
  versions: VersionRecord[]; // oldest first
  tags: Tag[];
}

/** ListSecrets filter keys, as the API names them. */
export type FilterKey = 'description' | 'name' | 'tag-key' | 'tag-value' | 'primary-region' | 'owning-service' | 'all';

/** ListSecrets sort columns. */
export type SortBy = 'created-date' | 'last-accessed-date' | 'last-changed-date' | 'name';

/** A query over secrets, with keyset pagination. */
export interface ListQuery {
  filters: { key: FilterKey; values: string[] }[];
  includePlannedDeletion: boolean;
  sortBy: SortBy;
  sortOrder: 'asc' | 'desc';
  limit: number;
  after: { sort: string | number | null; id: number } | null;
}

/** A page of a listing: the rows, and where the next page starts if there is one. */
export interface ListPage {
  items: SecretAggregate[];
  next: { sort: string | number | null; id: number } | null;
}

/** A stored access key; the secret part is sealed. */
export interface AccessKeyRecord {
  accessKeyId: string;
  sealedSecret: Buffer;
  /** 'root', or the ARN of the user or role (temporary keys) it belongs to. */
  principal: string;
  createdMs: number;
  status: 'Active' | 'Inactive';
  /** Temporary keys (STS): when they stop working. */
  expiresMs?: number | null;
  /** Temporary keys: SHA-256 (hex) of the session token that must accompany them. */
  sessionTokenHash?: string | null;
  /** Temporary keys: JSON describing the session (role ARN, session name, source, ...). */
  session?: string | null;
}

/** An IAM user or role of this server's account. */
export interface PrincipalRecord {
  arn: string;
  kind: 'user' | 'role';
  name: string;
  path: string;
  uniqueId: string;
  createdMs: number;
  /** Roles: the trust policy (AssumeRolePolicyDocument). */
  trustPolicy?: string | null;
  description?: string | null;
  maxSessionS?: number | null;
}

/** One record of the audit trail, chained to the previous one by its hash. */
export interface AuditRow {
  seq: number;
  timeMs: number;
  record: string; // JSON
  prevHash: string;
  hash: string;
}

/** Repository for secrets, versions, labels and tags. Every call belongs to the surrounding transaction. */
export interface SecretsRepo {
  insertSecret(s: NewSecret): Promise<number>;
  updateSecret(id: number, patch: Partial<NewSecret>): Promise<void>;
  deleteSecret(id: number): Promise<void>;
  byName(name: string): Promise<SecretRecord | undefined>;
  byId(id: number): Promise<SecretRecord | undefined>;
  byArn(arn: string): Promise<SecretRecord | undefined>;
  aggregate(s: SecretRecord): Promise<SecretAggregate>;
  version(secretId: number, versionId: string): Promise<VersionRecord | undefined>;
  versionByStage(secretId: number, stage: string): Promise<VersionRecord | undefined>;
  insertVersion(secretId: number, v: VersionRecord): Promise<void>;
  /** Gives a placeholder version (no value yet) its sealed value, and the keys it was sealed with when given. */
  fillVersion(secretId: number, versionId: string, sealed: Buffer, kmsKeyIds?: string[]): Promise<void>;
  /** Replaces the sealed value of a version (the same value sealed under another key) and its key ids. */
  resealVersion(secretId: number, versionId: string, sealed: Buffer, kmsKeyIds: string[]): Promise<void>;
  deleteVersion(secretId: number, versionId: string): Promise<void>;
  /** Replaces the secret's whole label map: label -> version id. */
  setLabels(secretId: number, labels: Map<string, string>): Promise<void>;
  touchVersion(secretId: number, versionId: string, dayMs: number): Promise<void>;
  setTags(secretId: number, tags: Tag[]): Promise<void>;
  list(q: ListQuery): Promise<ListPage>;
  /** Secrets whose recovery window has ended. */
  dueForPurge(nowMs: number, limit: number): Promise<SecretRecord[]>;
}

/** Repository for principals, their inline policies and their access keys. */
export interface IdentityRepo {
  accessKeys(): Promise<AccessKeyRecord[]>;
  accessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  accessKeysOf(principal: string): Promise<AccessKeyRecord[]>;
  putAccessKey(k: AccessKeyRecord): Promise<void>;
  deleteAccessKey(accessKeyId: string): Promise<void>;
  /** Removes temporary keys that expired before `nowMs`; how many. */
  deleteExpiredKeys(nowMs: number): Promise<number>;
  principal(kind: 'user' | 'role', name: string): Promise<PrincipalRecord | undefined>;
  principalByArn(arn: string): Promise<PrincipalRecord | undefined>;
  principals(kind: 'user' | 'role'): Promise<PrincipalRecord[]>;
  putPrincipal(p: PrincipalRecord): Promise<void>;
  /** Deletes a principal with its inline policies and access keys. */
  deletePrincipal(arn: string): Promise<void>;
  policies(principalArn: string): Promise<{ name: string; document: string }[]>;
  putPolicy(principalArn: string, name: string, document: string): Promise<void>;
  deletePolicy(principalArn: string, name: string): Promise<boolean>;
}

/** The append-only, hash-chained audit trail. */
export interface AuditRepo {
  /** The newest record (undefined when the trail is empty). */
  last(): Promise<AuditRow | undefined>;
  append(r: Omit<AuditRow, 'seq'>): Promise<number>;
  /** Records after `afterSeq`, oldest first. */
  list(afterSeq: number, limit: number): Promise<AuditRow[]>;
}

/** A registered rotation function (the Lambda-compatible subset). */
export interface FunctionRecord {
  name: string;
  arn: string;
  runtime: string;
  handler: string;
  role: string;
  description: string;
  timeoutS: number;
  memoryMb: number;
  sealedEnvironment: Buffer | null; // the Environment.Variables map, sealed like a secret value
  code: Buffer; // the zip as uploaded
  codeSha256: string; // base64, as Lambda reports CodeSha256
  codeSize: number;
  policy: string | null; // resource policy JSON (AddPermission statements)
  createdMs: number;
  lastModifiedMs: number;
  revisionId: string;
}

/** Functions: registration, code and resource policies. */
export interface FunctionsRepo {
  get(name: string): Promise<FunctionRecord | undefined>;
  list(): Promise<FunctionRecord[]>;
  put(f: FunctionRecord): Promise<void>;
  delete(name: string): Promise<boolean>;
}

/** One rotation of one secret: a run of the four steps under one token. */
export interface RotationRun {
  id: number;
  secretId: number;
  token: string;
  functionArn: string;
  kind: 'rotate' | 'test';
  state: 'running' | 'succeeded' | 'failed' | 'abandoned';
  step: string; // the next step to run
  attempt: number; // attempts of the current step so far
  nextAttemptMs: number | null;
  deadlineMs: number | null; // retries stop here (the end of the rotation window)
  leaseOwner: string | null;
  leaseUntilMs: number | null;
  leaseEpoch: number;
  startedMs: number;
  finishedMs: number | null;
  lastError: string | null;
}

/** One journaled invocation of one step. */
export interface StepRecord {
  runId: number;
  step: string;
  attempt: number;
  startedMs: number;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  error: string | null;
}

/** The rotation journal: runs, their steps, and leases that keep two workers off one run. */
export interface RotationRepo {
  insertRun(r: Omit<RotationRun, 'id'>): Promise<number>;
  updateRun(id: number, patch: Partial<Omit<RotationRun, 'id'>>): Promise<void>;
  run(id: number): Promise<RotationRun | undefined>;
  activeRun(secretId: number): Promise<RotationRun | undefined>;
  runsOf(secretId: number, limit: number): Promise<RotationRun[]>;
  /** Running runs whose next attempt is due and whose lease is free or expired. */
  dueRuns(nowMs: number, limit: number): Promise<RotationRun[]>;
  /** Takes the lease on a run if it is free or expired; true when taken. */
  claim(id: number, owner: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Extends a lease this owner holds at this epoch (a heartbeat); false when it was lost. */
  renew(id: number, owner: string, epoch: number, untilMs: number): Promise<boolean>;
  addStep(s: StepRecord): Promise<void>;
  steps(runId: number): Promise<StepRecord[]>;
  /** Secrets with rotation enabled whose next rotation date has come. */
  dueSecrets(nowMs: number, limit: number): Promise<SecretRecord[]>;
}

/** An entry of the event log. */
export interface EventRecord {
  id: number;
  timeMs: number;
  type: string;
  secretArn: string | null;
  detail: string; // JSON
}

/** The append-only event log. */
export interface EventsRepo {
  append(e: Omit<EventRecord, 'id'>): Promise<void>;
  list(q: { secretArn?: string; afterId?: number; limit: number }): Promise<EventRecord[]>;
  /** The id of the newest event (0 when there is none). */
  lastId(): Promise<number>;
}

/** Small key/value metadata (schema version, instance settings). */
export interface MetaRepo {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/** A named encryption key (the KMS analogue); its 32-byte material is sealed under the master key. */
export interface KmsKeyRecord {
  keyId: string; // a UUID
  description: string;
  enabled: boolean;
  sealedMaterial: Buffer;
  createdMs: number;
}

/** An alias (`alias/<name>`) pointing at a named key. */
export interface KmsAliasRecord {
  name: string;
  keyId: string;
  createdMs: number;
}

/** The kinds of stored values sealed directly under the master key: what a master-key rotation re-wraps. */
export type SealedKind = 'kms-key' | 'version' | 'access-key' | 'function';

/** Where a sealed row is in its table's key order (keyset pagination). */
export type SealedCursor = (string | number)[];

/**
 * One stored sealed value with what it is bound to: `owner` is the key id (kms-key), the secret ARN
 * (version, with the version id in `part`), the access key id (access-key) or the function ARN (function).
 */
export interface SealedRow {
  kind: SealedKind;
  cursor: SealedCursor;
  owner: string;
  part: string;
  sealed: Buffer;
}

/** Named keys and aliases, and the sealed values of every table, for re-wrapping under a new master key. */
export interface KeysRepo {
  insertKey(k: KmsKeyRecord): Promise<void>;
  key(keyId: string): Promise<KmsKeyRecord | undefined>;
  /** Every named key, oldest first. */
  keys(): Promise<KmsKeyRecord[]>;
  /** Enables or disables a key; false when there is no such key. */
  setEnabled(keyId: string, enabled: boolean): Promise<boolean>;
  alias(name: string): Promise<KmsAliasRecord | undefined>;
  /** Every alias, by name. */
  aliases(): Promise<KmsAliasRecord[]>;
  insertAlias(a: KmsAliasRecord): Promise<void>;
  /** Deletes an alias; false when there was none. */
  deleteAlias(name: string): Promise<boolean>;
  /** Sealed values of one kind after `after` (null: from the start), in a stable order, at most `limit`. */
  sealedRows(kind: SealedKind, after: SealedCursor | null, limit: number): Promise<SealedRow[]>;
  /** Replaces a sealed value if it still holds the bytes the row was read with; false when it changed or went. */
  replaceSealed(row: SealedRow, sealed: Buffer): Promise<boolean>;
}

/** The repositories a transaction sees. */
export interface Tx {
  secrets: SecretsRepo;
  identity: IdentityRepo;
  meta: MetaRepo;
  functions: FunctionsRepo;
  rotation: RotationRepo;
  events: EventsRepo;
  audit: AuditRepo;
  keys: KeysRepo;
}

/** A storage backend: transactions over the repositories. */
export interface Store {
  readonly backend: string;
  /**
   * Changes whenever a transaction of this store commits; a cache entry read at one generation is
   * valid while the generation stays the same. A backend shared by several nodes, which cannot see
   * the others' commits, returns NaN (never equal), which turns such caching off.
   */
  readonly generation: number;
  /** Runs fn in one atomic transaction; no network call may happen inside. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs fn against a consistent view, without writing. */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
