/** The SQLite schema, applied in order; the index of each step is its schema version. */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE secrets (
    id INTEGER PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    kms_key_id TEXT,
    created_ms INTEGER NOT NULL,
    last_changed_ms INTEGER NOT NULL,
    last_accessed_ms INTEGER,
    deleted_ms INTEGER,
    deletion_ms INTEGER,
    rotation_enabled INTEGER,
    rotation_lambda_arn TEXT,
    rotation_rules TEXT,
    last_rotated_ms INTEGER,
    next_rotation_ms INTEGER,
    owning_service TEXT,
    primary_region TEXT NOT NULL,
    resource_policy TEXT,
    tagged INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX secrets_created ON secrets (created_ms, id);
  CREATE INDEX secrets_changed ON secrets (last_changed_ms, id);
  CREATE INDEX secrets_accessed ON secrets (coalesce(last_accessed_ms, 0), id);
  CREATE INDEX secrets_deletion ON secrets (deletion_ms) WHERE deletion_ms IS NOT NULL;
  CREATE TABLE versions (
    secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
    version_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    last_accessed_ms INTEGER,
    sealed BLOB,
    kms_key_ids TEXT NOT NULL,
    PRIMARY KEY (secret_id, version_id)
  ) WITHOUT ROWID;
  CREATE TABLE labels (
    secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    version_id TEXT NOT NULL,
    PRIMARY KEY (secret_id, label)
  ) WITHOUT ROWID;
  CREATE TABLE tags (
    secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    ord INTEGER NOT NULL,
    PRIMARY KEY (secret_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    sealed_secret BLOB NOT NULL,
    principal TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    status TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
];
