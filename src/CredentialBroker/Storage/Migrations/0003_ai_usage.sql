-- Usage counters and an optional monthly limit per credential (issue 3). Every issued git
-- lease, every inject-mode AI lease and every request the sidecar's proxy reports is one use.
-- uses_this_month belongs to usage_month ('YYYY-MM', UTC); when the current month differs it
-- counts as 0, applied lazily on read and on write (no scheduled reset job).
ALTER TABLE credentials ADD COLUMN total_uses BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN uses_this_month BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN usage_month TEXT;
ALTER TABLE credentials ADD COLUMN last_used_at BIGINT;
ALTER TABLE credentials ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN monthly_limit BIGINT;           -- NULL = no limit
