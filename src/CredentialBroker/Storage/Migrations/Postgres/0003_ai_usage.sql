-- PostgreSQL twin of ../0003_ai_usage.sql.
ALTER TABLE credentials ADD COLUMN total_uses BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN uses_this_month BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN usage_month TEXT;
ALTER TABLE credentials ADD COLUMN last_used_at BIGINT;
ALTER TABLE credentials ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN monthly_limit BIGINT;
