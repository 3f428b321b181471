-- When every data key was re-wrapped under a keyring version (NULL while `keys rotate` to it is
-- unfinished): a rerun resumes that rotation instead of adding yet another version, and
-- `keys prune` refuses until it is done. Existing versions count as done when no credential
-- still uses an older one.
ALTER TABLE keyring ADD COLUMN rewrapped_at INTEGER;
UPDATE keyring SET rewrapped_at = created_at
WHERE NOT EXISTS (SELECT 1 FROM credentials WHERE credentials.kek_version < keyring.version);
