-- Request allowance of proxy-mode AI leases (issue 16). The broker counts a proxied request when it
-- grants it, not when a sidecar reports it: granted is charged to the credential's counters at
-- grant time, returned is unused allowance given back (never more than granted). Reported requests
-- and tokens are bounded by the grants and attributed to the lease's workspace. One row per
-- proxy-mode lease; rows outlive the lease row (pruned with the lease would lose the attribution).
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
