-- PostgreSQL twin of ../0005_credential_health.sql.
CREATE TABLE credential_health (
    credential_id       TEXT PRIMARY KEY REFERENCES credentials(id) ON DELETE CASCADE,
    secret_version      BIGINT NOT NULL,
    status              TEXT NOT NULL,
    reason              TEXT,
    checked_at          BIGINT NOT NULL,
    identity            TEXT,
    provider_expires_at BIGINT
);
CREATE INDEX ix_credential_health_checked ON credential_health(checked_at);
