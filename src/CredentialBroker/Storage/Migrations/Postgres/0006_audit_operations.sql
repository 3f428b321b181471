-- PostgreSQL twin of ../0006_audit_operations.sql.
-- Audit operations: where the chain starts after retention pruned older records, suspicious-
-- activity flags, and the flag detector's progress and counters.

-- The first retained record's sequence and the MAC it chains from (the last pruned record's),
-- itself MACed with the audit key, so a verifier can start there and nobody without the key can
-- cut records from the start of the chain and move the base along.
CREATE TABLE audit_base (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    seq          BIGINT  NOT NULL,
    prev_mac     BYTEA   NOT NULL,
    key_version  INTEGER NOT NULL,
    anchor       BYTEA   NOT NULL
);

-- seq is the sequence of the audit record that raised the flag: the listing's order and cursor.
CREATE TABLE audit_flags (
    seq              BIGINT  PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL,
    raised_at        BIGINT  NOT NULL,
    user_id          TEXT,
    workspace_id     TEXT,
    credential_id    TEXT,
    remote_address   TEXT,
    detail           TEXT    NOT NULL,
    acknowledged_at  BIGINT,
    acknowledged_by  TEXT
);
CREATE INDEX ix_audit_flags_user ON audit_flags(user_id, seq);
CREATE INDEX ix_audit_flags_workspace ON audit_flags(workspace_id, seq);
-- The newest flag of a kind for a subject: a condition that persists raises one flag per cool-down.
CREATE INDEX ix_audit_flags_subject ON audit_flags(kind, workspace_id, credential_id, remote_address, seq);

-- The last audit sequence the detector has examined.
CREATE TABLE audit_flag_scan (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq  BIGINT  NOT NULL
);

-- Event counts per subject and time bucket (minute or hour, by kind): rates without scanning the log.
CREATE TABLE audit_flag_counters (
    kind     TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    bucket   BIGINT  NOT NULL,
    count    BIGINT  NOT NULL,
    PRIMARY KEY (kind, subject, bucket)
);

-- Remote addresses each workspace has been seen from.
CREATE TABLE audit_seen_addresses (
    workspace_id  TEXT    NOT NULL,
    address       TEXT    NOT NULL,
    first_seen    BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, address)
);
