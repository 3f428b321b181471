-- Each applied migration's SHA-256 (of its SQL with LF line ends), so a migration edited after it ran is
-- detected at the next start. Rows applied before this one are backfilled by the migrator.
ALTER TABLE schema_version ADD COLUMN checksum TEXT;
