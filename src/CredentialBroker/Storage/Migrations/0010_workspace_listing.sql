-- GET /api/v1/workspaces pages in (created_at, id) order.
CREATE INDEX ix_workspaces_listing ON workspaces(created_at, id);
