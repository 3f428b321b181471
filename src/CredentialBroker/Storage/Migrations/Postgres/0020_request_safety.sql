-- PostgreSQL twin of ../0019_request_safety.sql.

-- Idempotency-Key: the first answer to a creating POST, per caller (API key) and key, replayed to
-- retries until expires_at (24 h). While locked_until is set the first request is still running.
-- The stored body is sealed like a secret (it may hold a one-time secret such as a new API key),
-- bound to the caller and key; a body that carries a secret is replayable only until replay_until,
-- after which the pruner erases the sealed body.
CREATE TABLE idempotency_keys (
    caller_key_id    TEXT NOT NULL,          -- key_… of the API key that sent it
    idempotency_key  TEXT NOT NULL,
    request_hash     BYTEA NOT NULL,          -- SHA-256 of method, path and body
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    locked_until     BIGINT,                -- in flight until then; NULL once the answer is stored
    status_code      INTEGER,
    location         TEXT,
    content_type     TEXT,
    replay_until     BIGINT,                -- NULL: replayable until expires_at
    kek_version      INTEGER,
    wrapped_dek      BYTEA,
    ciphertext       BYTEA,
    PRIMARY KEY (caller_key_id, idempotency_key)
);
CREATE INDEX ix_idempotency_keys_expires ON idempotency_keys(expires_at);

-- ETag / If-Match: row_version goes up whenever a column a client sees or edits changes (not on
-- usage counters, key re-wraps or last-used times), so the tag of a resource changes with it.
CREATE FUNCTION xares_bump_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_version := OLD.row_version + 1;
    RETURN NEW;
END $$;
ALTER TABLE users ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER users_row_version BEFORE UPDATE OF name, email ON users
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
ALTER TABLE api_keys ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER api_keys_row_version BEFORE UPDATE OF name, scopes, user_id, expires_at, revoked_at ON api_keys
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
ALTER TABLE credentials ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER credentials_row_version BEFORE UPDATE OF provider, name, url, scheme, host, port, path, username, secret_version, secret_hint, expires_at, delivery, monthly_limit, flagged_at ON credentials
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
ALTER TABLE workspaces ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER workspaces_row_version BEFORE UPDATE OF name, allowed_hosts, repositories, revoked_at ON workspaces
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
ALTER TABLE github_apps ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER github_apps_row_version BEFORE UPDATE OF name, app_id, api_url, git_url, installations ON github_apps
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
ALTER TABLE oauth_providers ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER oauth_providers_row_version BEFORE UPDATE OF name, authorize_url, token_url, device_authorization_url, revocation_url, client_id, scopes, git_url, git_username ON oauth_providers
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
ALTER TABLE oauth_connections ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER oauth_connections_row_version BEFORE UPDATE OF status ON oauth_connections
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
ALTER TABLE leases ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER leases_row_version BEFORE UPDATE OF revoked_at, rejected_at ON leases
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
