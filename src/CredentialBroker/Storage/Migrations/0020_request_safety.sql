-- Safe retries and conditional writes for the REST API (README, REST conventions). Times are unix ms.

-- Idempotency-Key: the first answer to a creating POST, per caller (API key) and key, replayed to
-- retries until expires_at (24 h). While locked_until is set the first request is still running.
-- The stored body is sealed like a secret (it may hold a one-time secret such as a new API key),
-- bound to the caller and key; a body that carries a secret is replayable only until replay_until,
-- after which the pruner erases the sealed body.
CREATE TABLE idempotency_keys (
    caller_key_id    TEXT NOT NULL,          -- key_… of the API key that sent it
    idempotency_key  TEXT NOT NULL,
    request_hash     BLOB NOT NULL,          -- SHA-256 of method, path and body
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    locked_until     INTEGER,                -- in flight until then; NULL once the answer is stored
    status_code      INTEGER,
    location         TEXT,
    content_type     TEXT,
    replay_until     INTEGER,                -- NULL: replayable until expires_at
    kek_version      INTEGER,
    wrapped_dek      BLOB,
    ciphertext       BLOB,
    PRIMARY KEY (caller_key_id, idempotency_key)
);
CREATE INDEX ix_idempotency_keys_expires ON idempotency_keys(expires_at);

-- ETag / If-Match: row_version goes up whenever a column a client sees or edits changes (not on
-- usage counters, key re-wraps or last-used times), so the tag of a resource changes with it.
ALTER TABLE users ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER users_row_version AFTER UPDATE OF name, email ON users
BEGIN UPDATE users SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;
ALTER TABLE api_keys ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER api_keys_row_version AFTER UPDATE OF name, scopes, user_id, expires_at, revoked_at ON api_keys
BEGIN UPDATE api_keys SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;
ALTER TABLE credentials ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER credentials_row_version AFTER UPDATE OF provider, name, url, scheme, host, port, path, username, secret_version, secret_hint, expires_at, delivery, monthly_limit, flagged_at ON credentials
BEGIN UPDATE credentials SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;
ALTER TABLE workspaces ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER workspaces_row_version AFTER UPDATE OF name, allowed_hosts, repositories, revoked_at ON workspaces
BEGIN UPDATE workspaces SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;
ALTER TABLE github_apps ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER github_apps_row_version AFTER UPDATE OF name, app_id, api_url, git_url, installations ON github_apps
BEGIN UPDATE github_apps SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;
ALTER TABLE oauth_providers ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER oauth_providers_row_version AFTER UPDATE OF name, authorize_url, token_url, device_authorization_url, revocation_url, client_id, scopes, git_url, git_username ON oauth_providers
BEGIN UPDATE oauth_providers SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;
ALTER TABLE oauth_connections ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER oauth_connections_row_version AFTER UPDATE OF status ON oauth_connections
BEGIN UPDATE oauth_connections SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;
ALTER TABLE leases ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER leases_row_version AFTER UPDATE OF revoked_at, rejected_at ON leases
BEGIN UPDATE leases SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;
