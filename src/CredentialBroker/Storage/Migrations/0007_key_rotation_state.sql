-- When every data key was re-wrapped under a keyring version (NULL while `keys rotate` to it is
-- unfinished): a rerun resumes that rotation instead of adding yet another version, and
-- `keys prune` refuses until it is done. Existing versions count as done when no credential
-- still uses an older one.
ALTER TABLE keyring ADD COLUMN rewrapped_at INTEGER;
UPDATE keyring SET rewrapped_at = created_at
WHERE NOT EXISTS (SELECT 1 FROM credentials WHERE credentials.kek_version < keyring.version);

-- A credential is written only under a keyring version that exists: a broker that still took a
-- version `keys prune` just deleted for current fails that write (and retries) instead of
-- sealing a secret no process could open after its restart.
CREATE TRIGGER credentials_kek_version_exists_insert BEFORE INSERT ON credentials
WHEN NOT EXISTS (SELECT 1 FROM keyring WHERE version = NEW.kek_version)
BEGIN SELECT RAISE(ABORT, 'credentials.kek_version names no keyring version'); END;
CREATE TRIGGER credentials_kek_version_exists_update BEFORE UPDATE OF kek_version ON credentials
WHEN NOT EXISTS (SELECT 1 FROM keyring WHERE version = NEW.kek_version)
BEGIN SELECT RAISE(ABORT, 'credentials.kek_version names no keyring version'); END;
