-- PostgreSQL twin of ../0016_ai_request_grants.sql.
CREATE TABLE ai_request_grants (
    lease_id          TEXT PRIMARY KEY,
    credential_id     TEXT NOT NULL,
    workspace_id      TEXT NOT NULL,
    usage_month       TEXT NOT NULL,            -- 'YYYY-MM' (UTC) of the latest grant
    granted           BIGINT NOT NULL DEFAULT 0,
    returned          BIGINT NOT NULL DEFAULT 0,
    reported_requests BIGINT NOT NULL DEFAULT 0,
    input_tokens      BIGINT NOT NULL DEFAULT 0,
    output_tokens     BIGINT NOT NULL DEFAULT 0,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX ix_ai_request_grants_credential ON ai_request_grants(credential_id, usage_month);
