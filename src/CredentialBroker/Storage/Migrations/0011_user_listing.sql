-- GET /api/v1/users pages in (created_at, id) order.
CREATE INDEX ix_users_listing ON users(created_at, id);
