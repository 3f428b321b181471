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
/// </summary>
internal sealed class AuditChain(Keyring keyring, TimeProvider time)
{
    public AuditRecord Append(DbConnection connection, DbTransaction transaction, AuditEntry entry)
    {
        // One appender at a time across broker replicas (PostgreSQL): the chain stays one chain.
        Database.LockForWrite(connection, transaction);
        // Inside a PostgreSQL write batch the chain's end is what this thread appended last.
        var batch = Storage.Postgres.PostgresLocks.CurrentBatch;
        var (lastSequence, lastMac) = batch is not null && t_last is { } remembered && remembered.Batch == batch
            ? (remembered.Sequence, remembered.Mac)
            : Sql.Single(connection, transaction,
                "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1",
                r => new Tuple<long, byte[]>(r.GetInt64(0), (byte[])r["mac"])) is { } last ? (last.Item1, last.Item2) : (0L, Array.Empty<byte>());

        var record = new AuditRecord(lastSequence + 1, time.GetUtcNow(), entry.Action, entry.Outcome, entry.Actor, entry.UserId,
            entry.WorkspaceId, entry.CredentialId, entry.LeaseId, entry.RemoteAddress, entry.Detail, keyring.CurrentVersion);
        var mac = HMACSHA256.HashData(keyring.AuditKey(record.KeyVersion), record.ChainInput(lastMac));

        // Held back inside a PostgreSQL write batch and sent with the batch's next statement (Sql.Write).
        Sql.Write(connection, transaction,
            $"INSERT INTO audit_log ({AuditRecord.Columns}, mac) VALUES (@seq, @at, @action, @outcome, @actor, @user, @ws, @cred, @lease, @remote, @detail, @kv, @mac)",
            ("@seq", record.Sequence), ("@at", record.At.ToDb()), ("@action", record.Action), ("@outcome", record.Outcome),
            ("@actor", record.Actor), ("@user", record.UserId), ("@ws", record.WorkspaceId), ("@cred", record.CredentialId),
            ("@lease", record.LeaseId), ("@remote", record.RemoteAddress), ("@detail", record.Detail), ("@kv", record.KeyVersion), ("@mac", mac));
        // The head only matters once the batch commits: one upsert per batch, of its newest record.
        Sql.WriteFolded(connection, transaction, "audit head", [],
            """
            INSERT INTO audit_head (id, seq, mac, key_version, anchor) VALUES (1, @seq, @mac, @kv, @anchor)
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, key_version = excluded.key_version, anchor = excluded.anchor
            """,
            ("@seq", record.Sequence), ("@mac", mac), ("@kv", record.KeyVersion), ("@anchor", HeadAnchor(record.KeyVersion, record.Sequence, mac)));
        t_last = batch is null ? null : new ChainEnd(batch.Value, record.Sequence, mac);
        Hosting.BrokerMetrics.AuditRecords.WithLabels(record.Action).Inc();
        return record;
    }

    [ThreadStatic]
    private static ChainEnd? t_last;

    private sealed record ChainEnd(long Batch, long Sequence, byte[] Mac);

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
