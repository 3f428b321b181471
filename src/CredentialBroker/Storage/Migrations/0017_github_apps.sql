-- Minted git tokens (GitHub App installation tokens). Times are unix ms.

-- A registered GitHub App: its private key is sealed like a credential's secret, bound to the row
-- (id, app id, API and git URLs), so a key moved to another row or an edited URL fails to decrypt.
CREATE TABLE github_apps (
    id             TEXT PRIMARY KEY,        -- ghapp_…
    name           TEXT NOT NULL,
    app_id         TEXT NOT NULL,           -- the JWT issuer
    api_url        TEXT NOT NULL,           -- https://api.github.com or https://host/api/v3 (no trailing slash)
    git_url        TEXT NOT NULL,           -- canonical scheme://host[:port] git serves
    git_scheme     TEXT NOT NULL,
    git_host       TEXT NOT NULL,
    git_port       INTEGER NOT NULL,
    installations  TEXT,                    -- JSON [{owner, installationId}] given at registration; others are looked up
    kek_version    INTEGER NOT NULL,
    wrapped_dek    BLOB NOT NULL,
    ciphertext     BLOB NOT NULL,
    key_hint       TEXT NOT NULL,           -- SHA-256 fingerprint of the public key, safe to show
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX ix_github_apps_git ON github_apps(git_scheme, git_host, git_port);

-- The repositories a workspace works on (JSON [{host, name, access}]); NULL: none named.
ALTER TABLE workspaces ADD COLUMN repositories TEXT;

-- Every upstream token the broker minted: reused per (workspace, scope) until shortly before it
-- expires. Leases of a minted token carry its id as their credential_id (secret_version 1).
CREATE TABLE minted_tokens (
    id               TEXT PRIMARY KEY,      -- mint_…
    source_id        TEXT NOT NULL,         -- the GitHub App (ghapp_…)
    workspace_id     TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    scope_key        TEXT NOT NULL,         -- installation, repositories and permissions, canonical
    installation_id  INTEGER NOT NULL,
    git_url          TEXT NOT NULL,
    owner            TEXT NOT NULL,
    repositories     TEXT NOT NULL,         -- JSON array of repository names (without owner)
    access           TEXT NOT NULL,         -- read | write
    kek_version      INTEGER NOT NULL,
    wrapped_dek      BLOB NOT NULL,
    ciphertext       BLOB NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    revoked_at       INTEGER
);
CREATE INDEX ix_minted_tokens_reuse ON minted_tokens(workspace_id, scope_key);
CREATE INDEX ix_minted_tokens_source ON minted_tokens(source_id);

-- Outbox of upstream revocations (DELETE /installation/token), retried with backoff by a worker;
-- written in the transaction that revokes the token locally, so a revocation is never lost.
CREATE TABLE upstream_revocations (
    token_id         TEXT PRIMARY KEY REFERENCES minted_tokens(id) ON DELETE CASCADE,
    api_url          TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX ix_upstream_revocations_due ON upstream_revocations(next_attempt_at);

-- "One mint per scope across replicas": a replica claims the scope for a short time before it
-- calls GitHub; the others wait for the token it stores instead of minting their own.
CREATE TABLE mint_claims (
    claim_key   TEXT PRIMARY KEY,            -- workspace, app, owner, access and repositories
    holder      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
