-- PostgreSQL twin of ../0002_audit_head.sql.
CREATE TABLE audit_head (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    seq          BIGINT  NOT NULL,
    mac          BYTEA   NOT NULL,
    key_version  INTEGER NOT NULL,
    anchor       BYTEA   NOT NULL
);
