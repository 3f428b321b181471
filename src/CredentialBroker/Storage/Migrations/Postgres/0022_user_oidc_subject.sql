-- PostgreSQL twin of ../0022_user_oidc_subject.sql.

-- A user's OpenID Connect subject (the ID token's "sub"): what the web UI finds the user by when
-- it signs people in with --ui-user-match subject (docs/ui.md). A broker has one issuer, so the
-- subject alone is unique; NULL (no subject) for any number of users.
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX ix_users_oidc_subject ON users(oidc_subject);

-- The subject is seen and edited by clients, so changing it changes the user's ETag too.
DROP TRIGGER users_row_version ON users;
CREATE TRIGGER users_row_version BEFORE UPDATE OF name, email, oidc_subject ON users
FOR EACH ROW EXECUTE FUNCTION xares_bump_row_version();
