-- Credential health (issue 6): the last provider test of each credential's current secret
-- version. A row whose secret_version is older than the credential's describes a secret that
-- is gone and reads as "unchecked". identity is JSON (login, scopes, rate limit), never a secret.
CREATE TABLE credential_health (
    credential_id       TEXT PRIMARY KEY REFERENCES credentials(id) ON DELETE CASCADE,
    secret_version      INTEGER NOT NULL,
    status              TEXT NOT NULL,          -- ok | failed
    reason              TEXT,
    checked_at          INTEGER NOT NULL,       -- unix ms
    identity            TEXT,
    provider_expires_at INTEGER                 -- the expiry the provider reported, if any
);
CREATE INDEX ix_credential_health_checked ON credential_health(checked_at);
