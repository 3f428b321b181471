-- PostgreSQL twin of ../0007_key_rotation_state.sql.
ALTER TABLE keyring ADD COLUMN rewrapped_at BIGINT;
UPDATE keyring SET rewrapped_at = created_at
WHERE NOT EXISTS (SELECT 1 FROM credentials WHERE credentials.kek_version < keyring.version);

-- A credential is written only under a keyring version that exists (SQLite: triggers).
ALTER TABLE credentials ADD CONSTRAINT credentials_kek_version_fkey FOREIGN KEY (kek_version) REFERENCES keyring(version);
