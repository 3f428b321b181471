-- GET /api/v1/leases pages newest first in (issued_at, id) order.
CREATE INDEX ix_leases_listing ON leases(issued_at, id);
