-- PostgreSQL twin of ../0004_docker_watcher.sql.
ALTER TABLE workspaces ADD COLUMN container_state TEXT;
CREATE INDEX ix_workspaces_container ON workspaces(container_id);

CREATE TABLE leader_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
