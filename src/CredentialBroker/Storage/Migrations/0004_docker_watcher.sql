-- Docker watcher (issue 5). container_state: starting | running | failing | stopped, NULL when
-- no container was ever bound (the platform bootstraps the sidecar itself).
ALTER TABLE workspaces ADD COLUMN container_state TEXT;
CREATE INDEX ix_workspaces_container ON workspaces(container_id);

-- Leader leases: one row per singleton job (e.g. 'docker-watcher'); a replica holds it while it
-- renews it before expires_at (unix ms), and any replica may take it over afterwards.
CREATE TABLE leader_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
