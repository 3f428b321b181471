-- Several Docker engines (issue 20): a container is identified by (engine, id), since ids are unique
-- only within one engine. Containers bound before this carry the engine of a single unnamed
-- --docker, "default".
ALTER TABLE workspaces ADD COLUMN container_engine TEXT;
UPDATE workspaces SET container_engine = 'default' WHERE container_id IS NOT NULL;
DROP INDEX ix_workspaces_container;
CREATE INDEX ix_workspaces_container ON workspaces(container_engine, container_id);
