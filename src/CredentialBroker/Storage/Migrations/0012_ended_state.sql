-- Retention (--ended-retention-days) finds expired leases and ended sessions by time.
CREATE INDEX ix_leases_expires ON leases(expires_at);
CREATE INDEX ix_sessions_expires ON sessions(expires_at);
