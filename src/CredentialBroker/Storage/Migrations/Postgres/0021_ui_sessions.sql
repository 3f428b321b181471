-- PostgreSQL twin of ../0021_ui_sessions.sql.

-- The web UI's sign-in state, shared by every replica (docs/ui.md). Times are unix ms.

-- ASP.NET Core DataProtection key ring (the keys protecting the UI's cookies, anti-forgery tokens
-- and stored sessions): one row per XML element the key manager stores (key-<guid>, revocation-…),
-- the whole element sealed with the vault and bound to its id, so no key material is on disk in clear.
CREATE TABLE data_protection_keys (
    id           TEXT PRIMARY KEY,
    created_at   BIGINT NOT NULL,
    kek_version  INTEGER NOT NULL,
    wrapped_dek  BYTEA NOT NULL,
    ciphertext   BYTEA NOT NULL
);

-- Signed-in UI sessions. The cookie holds a random session id; the row is found by its SHA-256,
-- so the database never holds a usable id. The ticket is protected with DataProtection (bound to
-- the id hash). expires_at is the idle expiry, pushed on by sliding renewals; deleting the user
-- ends its sessions.
CREATE TABLE ui_sessions (
    id_hash     BYTEA PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    renewed_at  BIGINT NOT NULL,
    ticket      BYTEA NOT NULL
);
CREATE INDEX ix_ui_sessions_expires ON ui_sessions(expires_at);
CREATE INDEX ix_ui_sessions_user ON ui_sessions(user_id);
