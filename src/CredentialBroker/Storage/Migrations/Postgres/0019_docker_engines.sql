-- PostgreSQL twin of ../0019_docker_engines.sql.
ALTER TABLE workspaces ADD COLUMN container_engine TEXT;
UPDATE workspaces SET container_engine = 'default' WHERE container_id IS NOT NULL;
DROP INDEX ix_workspaces_container;
CREATE INDEX ix_workspaces_container ON workspaces(container_engine, container_id);
