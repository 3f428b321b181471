-- GET /api/v1/credentials pages through every user's credentials in (created_at, id) order.
CREATE INDEX ix_credentials_listing ON credentials(created_at, id);
