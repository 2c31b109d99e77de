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
  `
  CREATE TABLE functions (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    runtime TEXT NOT NULL,
    handler TEXT NOT NULL,
    role TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    timeout_s INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    sealed_environment BLOB,
    code BLOB NOT NULL,
    code_sha256 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    policy TEXT,
    created_ms INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    revision_id TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE rotation_runs (
    id INTEGER PRIMARY KEY,
    secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
    token TEXT NOT NULL,
    function_arn TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    step TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    next_attempt_ms INTEGER,
    deadline_ms INTEGER,
    lease_owner TEXT,
    lease_until_ms INTEGER,
    lease_epoch INTEGER NOT NULL DEFAULT 0,
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    last_error TEXT,
    UNIQUE (secret_id, token)
  );
  CREATE INDEX rotation_runs_due ON rotation_runs (state, next_attempt_ms);
  CREATE TABLE rotation_steps (
    run_id INTEGER NOT NULL REFERENCES rotation_runs(id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT
  );
  CREATE INDEX rotation_steps_run ON rotation_steps (run_id);
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    type TEXT NOT NULL,
    secret_arn TEXT,
    detail TEXT NOT NULL
  );
  CREATE INDEX events_secret ON events (secret_arn, id);
  CREATE INDEX secrets_next_rotation ON secrets (next_rotation_ms) WHERE rotation_enabled = 1;
  `,
  `
  ALTER TABLE secrets ADD COLUMN rotation_due_ms INTEGER;
  DROP INDEX secrets_next_rotation;
  CREATE INDEX secrets_rotation_due ON secrets (rotation_due_ms) WHERE rotation_enabled = 1;
  `,
  `
  CREATE INDEX rotation_runs_secret ON rotation_runs (secret_id, state);
  `,
  `
  CREATE TABLE principals (
    arn TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    unique_id TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    trust_policy TEXT,
    description TEXT,
    max_session_s INTEGER
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX principals_name ON principals (kind, name COLLATE NOCASE);
  CREATE TABLE principal_policies (
    principal_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (principal_arn, name)
  ) WITHOUT ROWID;
  ALTER TABLE access_keys ADD COLUMN expires_ms INTEGER;
  ALTER TABLE access_keys ADD COLUMN session_token_hash TEXT;
  ALTER TABLE access_keys ADD COLUMN session TEXT;
  CREATE INDEX access_keys_principal ON access_keys (principal);
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    record TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE kms_keys (
    key_id TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    sealed_material BLOB NOT NULL,
    created_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE kms_aliases (
    name TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES kms_keys(key_id),
    created_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX kms_aliases_key ON kms_aliases (key_id);
  `,
  `
  -- The data generation: every change to what read caches hold (secrets, versions, labels, tags,
  -- encryption keys, settings) moves it, whoever writes; the rotation journal, identities, functions,
  -- events and the audit trail do not.
  INSERT OR IGNORE INTO meta (key, value) VALUES ('data_generation', '0');
  CREATE TRIGGER secrets_insert_gen AFTER INSERT ON secrets BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER secrets_update_gen AFTER UPDATE ON secrets BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER secrets_delete_gen AFTER DELETE ON secrets BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER versions_insert_gen AFTER INSERT ON versions BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER versions_update_gen AFTER UPDATE ON versions BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER versions_delete_gen AFTER DELETE ON versions BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER labels_insert_gen AFTER INSERT ON labels BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER labels_update_gen AFTER UPDATE ON labels BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER labels_delete_gen AFTER DELETE ON labels BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER tags_insert_gen AFTER INSERT ON tags BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER tags_update_gen AFTER UPDATE ON tags BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER tags_delete_gen AFTER DELETE ON tags BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER kms_keys_insert_gen AFTER INSERT ON kms_keys BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER kms_keys_update_gen AFTER UPDATE ON kms_keys BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER kms_keys_delete_gen AFTER DELETE ON kms_keys BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER kms_aliases_insert_gen AFTER INSERT ON kms_aliases BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER kms_aliases_update_gen AFTER UPDATE ON kms_aliases BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER kms_aliases_delete_gen AFTER DELETE ON kms_aliases BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER meta_insert_gen AFTER INSERT ON meta WHEN NEW.key <> 'data_generation' BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER meta_update_gen AFTER UPDATE ON meta WHEN NEW.key <> 'data_generation' BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  CREATE TRIGGER meta_delete_gen AFTER DELETE ON meta WHEN OLD.key <> 'data_generation' BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_generation'; END;
  `,
];
