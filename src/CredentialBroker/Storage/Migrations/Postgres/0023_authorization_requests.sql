-- PostgreSQL twin of ../0023_authorization_requests.sql.

-- The web UI's OAuth redirect grants in flight (authorization code with PKCE, docs/minted-credentials.md),
-- shared by every replica so the provider may send the browser back to any of them. Times are unix ms.
-- The row is found by the SHA-256 of the grant's state and bound to the SHA-256 of the web UI session
-- id that started it, so the database never holds a usable state or session id. The PKCE code
-- verifier is protected with DataProtection (bound to the state hash). Taking a grant deletes its
-- row, so a state is used at most once across all replicas; expired rows are pruned.
CREATE TABLE authorization_requests (
    state_hash     BYTEA PRIMARY KEY,
    session_hash   BYTEA NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider_id    TEXT NOT NULL,
    reconnect_id   TEXT,
    redirect_uri   TEXT NOT NULL,
    code_verifier  BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX ix_authorization_requests_expires ON authorization_requests(expires_at);
CREATE INDEX ix_authorization_requests_session ON authorization_requests(session_hash, created_at);
