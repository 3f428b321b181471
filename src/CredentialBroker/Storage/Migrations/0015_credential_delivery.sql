-- How an AI credential's key may reach a workspace: 'proxy' (only through the sidecar's proxy; the
-- broker refuses inject-mode leases) or 'any' (inject allowed). Rows created before this migration
-- keep working as they did ('any'); the REST API creates new AI credentials as 'proxy' by default.
ALTER TABLE credentials ADD COLUMN delivery TEXT NOT NULL DEFAULT 'any';
