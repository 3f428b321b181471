-- The hash of the retry key a sidecar sent with the refresh that superseded this token. A refresh
-- whose reply was lost (a replica died after committing it) is retried with the old token and
-- the same key; the broker re-issues instead of treating it as a replay (design rule d).
ALTER TABLE session_tokens ADD COLUMN retry_key_hash BYTEA;
