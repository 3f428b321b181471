-- Times are unix milliseconds (UTC). Ids are prefixed strings (usr_, cred_, ws_, ...).

CREATE TABLE keyring (
    version      INTEGER PRIMARY KEY,
    wrapped_key  BLOB    NOT NULL,   -- nonce || ciphertext || tag under the master key
    created_at   INTEGER NOT NULL
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,     -- first characters, safe to show
    scopes        TEXT NOT NULL,     -- space-separated
    user_id       TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER
);

CREATE TABLE credentials (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,          -- git | ai
    provider         TEXT NOT NULL,
    name             TEXT,
    url              TEXT,                   -- canonical destination (git) or base url (ai)
    scheme           TEXT,
    host             TEXT,
    port             INTEGER,
    path             TEXT,                   -- canonical path, '' when none
    username         TEXT,
    secret_version   INTEGER NOT NULL,
    kek_version      INTEGER NOT NULL,
    wrapped_dek      BLOB NOT NULL,
    ciphertext       BLOB NOT NULL,
    secret_hint      TEXT NOT NULL,
    expires_at       INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    rejection_count  INTEGER NOT NULL DEFAULT 0,
    flagged_at       INTEGER
);
CREATE INDEX ix_credentials_match ON credentials(user_id, kind, scheme, host, port);

CREATE TABLE workspaces (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    allowed_hosts  TEXT,                    -- JSON array, NULL = all hosts
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    container_id   TEXT
);

CREATE TABLE bootstrap_tokens (
    token_hash    BLOB PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX ix_bootstrap_tokens_workspace ON bootstrap_tokens(workspace_id);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,       -- hard end, re-bootstrap after it
    revoked_at      INTEGER,
    remote_address  TEXT
);
CREATE INDEX ix_sessions_workspace ON sessions(workspace_id);

-- Every token a session has had; superseded ones are kept to detect replay (rule d).
CREATE TABLE session_tokens (
    token_hash     BLOB PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    superseded_at  INTEGER
);
CREATE INDEX ix_session_tokens_session ON session_tokens(session_id);

CREATE TABLE leases (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    session_id      TEXT NOT NULL,
    credential_id   TEXT NOT NULL,
    secret_version  INTEGER NOT NULL,
    issued_at       INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    rejected_at     INTEGER
);
CREATE INDEX ix_leases_workspace ON leases(workspace_id);
CREATE INDEX ix_leases_credential ON leases(credential_id);

-- Durable, ordered revocations pushed to sidecars (rule e).
CREATE TABLE revocations (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,           -- lease | credential | session | workspace
    target_id     TEXT NOT NULL,
    workspace_id  TEXT,                    -- set for lease, session and workspace revocations
    user_id       TEXT,                    -- set for credential revocations
    created_at    INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    action         TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    actor          TEXT,
    user_id        TEXT,
    workspace_id   TEXT,
    credential_id  TEXT,
    lease_id       TEXT,
    remote_address TEXT,
    detail         TEXT,
    key_version    INTEGER NOT NULL,
    mac            BLOB NOT NULL
);
CREATE INDEX ix_audit_user ON audit_log(user_id, seq);
CREATE INDEX ix_audit_workspace ON audit_log(workspace_id, seq);
CREATE INDEX ix_audit_credential ON audit_log(credential_id, seq);
