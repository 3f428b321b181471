-- The newest audit record's sequence and MAC, itself MACed with the audit key: removing
-- records from the end of the chain (truncation) no longer leaves a chain that verifies.
CREATE TABLE audit_head (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    seq          INTEGER NOT NULL,
    mac          BLOB    NOT NULL,
    key_version  INTEGER NOT NULL,
    anchor       BLOB    NOT NULL
);
