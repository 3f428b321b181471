-- PostgreSQL twin of ../0018_oauth_connections.sql.
-- OAuth connections: a user's account at an OAuth 2.0 provider, connected through the device
-- authorization grant (RFC 8628); its access token is handed out as git leases and refreshed by
-- the broker. Times are unix ms.

-- A registered OAuth provider. The client secret is sealed, bound to the row and its endpoints,
-- so an endpoint edited in the database fails to decrypt it.
CREATE TABLE oauth_providers (
    id                        TEXT PRIMARY KEY,        -- oauthp_…
    name                      TEXT NOT NULL,           -- what `xares-sidecar connect NAME` names
    kind                      TEXT NOT NULL,           -- github | gitlab | forgejo | gitea | generic
    authorize_url             TEXT,
    token_url                 TEXT NOT NULL,
    device_authorization_url  TEXT,
    revocation_url            TEXT,
    userinfo_url              TEXT,
    client_id                 TEXT NOT NULL,
    client_auth               TEXT NOT NULL,           -- basic | post
    scopes                    TEXT NOT NULL,           -- space-separated
    git_url                   TEXT NOT NULL,           -- canonical scheme://host[:port]
    git_scheme                TEXT NOT NULL,
    git_host                  TEXT NOT NULL,
    git_port                  INTEGER NOT NULL,
    git_username              TEXT NOT NULL,
    kek_version               INTEGER NOT NULL,
    wrapped_dek               BYTEA NOT NULL,
    ciphertext                BYTEA NOT NULL,
    secret_hint               TEXT NOT NULL,
    created_at                BIGINT NOT NULL
);
CREATE UNIQUE INDEX ix_oauth_providers_name ON oauth_providers(name);
CREATE UNIQUE INDEX ix_oauth_providers_git ON oauth_providers(git_scheme, git_host, git_port);

-- One user's connection. Pending rows hold the device code (sealed) until the grant ends; active
-- rows hold the token pair (sealed JSON, token_version bumped by every refresh). The refresh claim
-- (refresh_claim_until) keeps one refresh per connection in flight across replicas.
CREATE TABLE oauth_connections (
    id                     TEXT PRIMARY KEY,           -- conn_…
    provider_id            TEXT NOT NULL REFERENCES oauth_providers(id),
    user_id                TEXT NOT NULL,
    workspace_id           TEXT,                       -- where `connect` ran; NULL over REST
    status                 TEXT NOT NULL,              -- pending | active | reconnect_required | denied | expired
    user_code              TEXT,
    verification_uri       TEXT,
    verification_uri_complete TEXT,
    device_expires_at      BIGINT,
    poll_interval_ms       BIGINT,
    next_poll_at           BIGINT,
    device_kek_version     INTEGER,
    device_wrapped_dek     BYTEA,
    device_ciphertext      BYTEA,
    token_version          INTEGER NOT NULL DEFAULT 0,
    kek_version            INTEGER,
    wrapped_dek            BYTEA,
    ciphertext             BYTEA,
    access_expires_at      BIGINT,
    has_refresh_token      INTEGER NOT NULL DEFAULT 0,
    refresh_claim_until    BIGINT,
    refresh_failures       INTEGER NOT NULL DEFAULT 0,
    refresh_not_before     BIGINT,
    last_error             TEXT,
    created_at             BIGINT NOT NULL,
    connected_at           BIGINT,
    refreshed_at           BIGINT
);
CREATE INDEX ix_oauth_connections_user ON oauth_connections(user_id, provider_id);
CREATE INDEX ix_oauth_connections_poll ON oauth_connections(status, next_poll_at);

-- Outbox of upstream revocations (RFC 7009) of disconnected tokens, retried with backoff. The
-- token is sealed to the row; the row goes with its provider.
CREATE TABLE oauth_revocations (
    id               TEXT PRIMARY KEY,                 -- orev_…
    provider_id      TEXT NOT NULL REFERENCES oauth_providers(id) ON DELETE CASCADE,
    connection_id    TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    token_type       TEXT NOT NULL,                    -- refresh_token | access_token
    kek_version      INTEGER NOT NULL,
    wrapped_dek      BYTEA NOT NULL,
    ciphertext       BYTEA NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX ix_oauth_revocations_due ON oauth_revocations(next_attempt_at);
