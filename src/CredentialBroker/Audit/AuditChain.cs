using System.Security.Cryptography;
using System.Data.Common;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Audit;

/// <summary>
/// Appends audit records inside the caller's write transaction (so the record commits with what it
/// records, or neither does) and verifies the chain. Each record carries an HMAC over its fields
/// and the previous MAC, keyed by a keyring version whose id is stored with it: someone who can
/// write the database but lacks the master key cannot recompute the chain after an edit.
/// Chained records also go to the audit devices (<see cref="Devices.AuditDevices"/>), if any.
/// </summary>
internal sealed class AuditChain(Keyring keyring, TimeProvider time, Devices.AuditDevices? devices = null)
{
    /// <summary>
    /// Appends a record. Inside a PostgreSQL write batch that has not yet read the chain's end, the
    /// record waits (unnumbered) until the batch next sends a statement or commits, and is numbered,
    /// stamped and MACed then, under the write lock: the batch's units do their work before the lock
    /// is taken, and the lock is held for two round trips (the end's read, then the records with the
    /// COMMIT) rather than for all of the batch's work.
    /// </summary>
    public void Append(DbConnection connection, DbTransaction transaction, AuditEntry entry)
    {
        WriteQueue.AfterCommit(() => Hosting.BrokerMetrics.AuditRecords.WithLabels(entry.Action).Inc());
        // One appender at a time across broker replicas (PostgreSQL): the chain stays one chain.
        Database.LockForWrite(connection, transaction);
        var batch = Storage.Postgres.PostgresLocks.CurrentBatch;
        if (batch is not null && t_last?.Batch != batch)
        {
            if (t_waiting is { } waiting && waiting.Batch == batch)
            {
                waiting.Entries.Add(entry);
                return;
            }
            if (Storage.Postgres.PendingWrites.TryDeferUntilSend(connection, () => Seal(connection, transaction)))
            {
                t_waiting = new WaitingEntries(batch.Value, [entry]);
                return;
            }
        }
        Write(connection, transaction, [entry]);
    }

    /// <summary>Appends a record now and returns it as stored (for callers that refer to its sequence).</summary>
    public AuditRecord AppendNow(DbConnection connection, DbTransaction transaction, AuditEntry entry)
    {
        WriteQueue.AfterCommit(() => Hosting.BrokerMetrics.AuditRecords.WithLabels(entry.Action).Inc());
        Database.LockForWrite(connection, transaction);
        Seal(connection, transaction);
        return Write(connection, transaction, [entry]);
    }

    /// <summary>Numbers and writes the records waiting in this batch (none: nothing to do).</summary>
    private void Seal(DbConnection connection, DbTransaction transaction)
    {
        if (t_waiting is { } waiting && waiting.Batch == Storage.Postgres.PostgresLocks.CurrentBatch)
        {
            t_waiting = null;
            Write(connection, transaction, waiting.Entries);
        }
    }

    /// <summary>Chains <paramref name="entries"/> in order after the chain's end; returns the last record.</summary>
    private AuditRecord Write(DbConnection connection, DbTransaction transaction, List<AuditEntry> entries)
    {
        // Inside a PostgreSQL write batch the chain's end is what this thread appended last.
        var batch = Storage.Postgres.PostgresLocks.CurrentBatch;
        var (lastSequence, lastMac) = batch is not null && t_last is { } remembered && remembered.Batch == batch
            ? (remembered.Sequence, remembered.Mac)
            : Sql.Single(connection, transaction,
                "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1",
                r => new Tuple<long, byte[]>(r.GetInt64(0), (byte[])r["mac"])) is { } last ? (last.Item1, last.Item2) : (0L, Array.Empty<byte>());

        // Stamped after the end was read, i.e. under the write lock: times follow sequence.
        var at = time.GetUtcNow();
        var records = new List<AuditRecord>(entries.Count);
        var macs = new List<byte[]>(entries.Count);
        foreach (var entry in entries)
        {
            var record = new AuditRecord(lastSequence + 1, at, entry.Action, entry.Outcome, entry.Actor, entry.UserId,
                entry.WorkspaceId, entry.CredentialId, entry.LeaseId, entry.RemoteAddress, entry.Detail, keyring.CurrentVersion);
            var mac = HMACSHA256.HashData(keyring.AuditKey(record.KeyVersion), record.ChainInput(lastMac));
            records.Add(record);
            macs.Add(mac);
            (lastSequence, lastMac) = (record.Sequence, mac);
        }
        // Held back inside a PostgreSQL write batch and sent with the batch's next statement (Sql.Write).
        if (records.Count == 1)
        {
            var record = records[0];
            Sql.Write(connection, transaction,
                $"INSERT INTO audit_log ({AuditRecord.Columns}, mac) VALUES (@seq, @at, @action, @outcome, @actor, @user, @ws, @cred, @lease, @remote, @detail, @kv, @mac)",
                ("@seq", record.Sequence), ("@at", record.At.ToDb()), ("@action", record.Action), ("@outcome", record.Outcome),
                ("@actor", record.Actor), ("@user", record.UserId), ("@ws", record.WorkspaceId), ("@cred", record.CredentialId),
                ("@lease", record.LeaseId), ("@remote", record.RemoteAddress), ("@detail", record.Detail), ("@kv", record.KeyVersion), ("@mac", macs[0]));
        }
        else
        {
            // Several records at once come only from a PostgreSQL batch's waiting ones: one
            // multi-row insert instead of a statement each, as this runs under the write lock.
            Sql.Write(connection, transaction,
                $"""
                INSERT INTO audit_log ({AuditRecord.Columns}, mac)
                SELECT * FROM unnest(@seq::bigint[], @at::bigint[], @action::text[], @outcome::text[], @actor::text[], @user::text[], @ws::text[],
                    @cred::text[], @lease::text[], @remote::text[], @detail::text[], @kv::integer[], @mac::bytea[])
                """,
                ("@seq", records.Select(r => r.Sequence).ToArray()), ("@at", records.Select(r => r.At.ToDb()).ToArray()),
                ("@action", records.Select(r => r.Action).ToArray()), ("@outcome", records.Select(r => r.Outcome).ToArray()),
                ("@actor", records.Select(r => r.Actor).ToArray()), ("@user", records.Select(r => r.UserId).ToArray()),
                ("@ws", records.Select(r => r.WorkspaceId).ToArray()), ("@cred", records.Select(r => r.CredentialId).ToArray()),
                ("@lease", records.Select(r => r.LeaseId).ToArray()), ("@remote", records.Select(r => r.RemoteAddress).ToArray()),
                ("@detail", records.Select(r => r.Detail).ToArray()), ("@kv", records.Select(r => r.KeyVersion).ToArray()), ("@mac", macs.ToArray()));
        }
        // The head only matters once the batch commits: one upsert per batch, of its newest record.
        Sql.WriteFolded(connection, transaction, "audit head", [],
            """
            INSERT INTO audit_head (id, seq, mac, key_version, anchor) VALUES (1, @seq, @mac, @kv, @anchor)
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, key_version = excluded.key_version, anchor = excluded.anchor
            """,
            ("@seq", lastSequence), ("@mac", lastMac), ("@kv", records[^1].KeyVersion), ("@anchor", HeadAnchor(records[^1].KeyVersion, lastSequence, lastMac)));
        t_last = batch is null ? null : new ChainEnd(batch.Value, lastSequence, lastMac);
        devices?.Chained(records, macs);
        return records[^1];
    }

    [ThreadStatic]
    private static ChainEnd? t_last;

    [ThreadStatic]
    private static WaitingEntries? t_waiting;

    private sealed record ChainEnd(long Batch, long Sequence, byte[] Mac);

    private sealed record WaitingEntries(long Batch, List<AuditEntry> Entries);

    private byte[] HeadAnchor(int keyVersion, long sequence, byte[] mac) => AuditMacs.Head(keyring, keyVersion, sequence, mac);

    /// <summary>
    /// Walks the chain from its base and reports the first record that does not verify; with
    /// checkpoints from outside the database, also a chain that ends before one of them or differs from one.
    /// </summary>
    public AuditVerification Verify(DbConnection connection, AuditCheckpointSet? checkpoints = null) =>
        new AuditVerifier(keyring, checkpoints ?? AuditCheckpointSet.Empty).Verify(connection);
}

internal sealed record AuditVerification(bool Ok, long VerifiedRecords, long? FirstBrokenSequence, string? Problem)
{
    /// <summary>The first record the chain holds: 1, or where it continues after retention pruned older records.</summary>
    public long FirstSequence { get; init; } = 1;

    /// <summary>How many external checkpoints were compared with the chain.</summary>
    public int CheckpointsChecked { get; init; }

    public static AuditVerification Intact(long count) => new(true, count, null, null);

    public static AuditVerification Broken(long count, long sequence, string problem) => new(false, count, sequence, problem);
}
