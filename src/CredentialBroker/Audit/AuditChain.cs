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
        Sql.Write(connection, transaction,
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

    private byte[] HeadAnchor(int keyVersion, long sequence, byte[] mac) =>
        HMACSHA256.HashData(keyring.AuditKey(keyVersion), System.Text.Encoding.UTF8.GetBytes($"xares-audit-head-v1:{sequence}:").Concat(mac).ToArray());

    /// <summary>Walks the whole chain and reports the first record that does not verify.</summary>
    public AuditVerification Verify(DbConnection connection)
    {
        // One snapshot for the walk and the head, so appends committing meanwhile (other writers,
        // other replicas) are either wholly in it or wholly out of it.
        using var snapshot = connection is Microsoft.Data.Sqlite.SqliteConnection sqlite
            ? sqlite.BeginTransaction(deferred: true)
            : connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
        var (broken, count, lastMac) = WalkChain(connection, snapshot);
        // The head is read after the walk's reader is closed: PostgreSQL runs one command at a time per connection.
        return broken ?? VerifyHead(connection, snapshot, count, lastMac);
    }

    private (AuditVerification? Broken, long Count, byte[] LastMac) WalkChain(DbConnection connection, DbTransaction snapshot)
    {
        using var command = Sql.Command(connection, $"SELECT {AuditRecord.Columns}, mac FROM audit_log ORDER BY seq", snapshot);
        using var reader = command.ExecuteReader();
        var previousMac = Array.Empty<byte>();
        long expected = 1;
        long count = 0;
        while (reader.Read())
        {
            var record = AuditRecord.Read(reader);
            var mac = (byte[])reader["mac"];
            if (record.Sequence != expected)
            {
                return (AuditVerification.Broken(count, expected, $"record {expected} is missing or out of order (found {record.Sequence})"), count, previousMac);
            }
            byte[] key;
            try
            {
                key = keyring.AuditKey(record.KeyVersion);
            }
            catch (KeyNotFoundException)
            {
                return (AuditVerification.Broken(count, record.Sequence, $"record {record.Sequence} names unknown key version {record.KeyVersion}"), count, previousMac);
            }
            if (!CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(key, record.ChainInput(previousMac))))
            {
                return (AuditVerification.Broken(count, record.Sequence, $"record {record.Sequence} was altered, or a record before it was removed or reordered"), count, previousMac);
            }
            previousMac = mac;
            expected++;
            count++;
        }
        return (null, count, previousMac);
    }

    // The head must name the last record walked, with a valid anchor; otherwise records were cut from the end.
    private AuditVerification VerifyHead(DbConnection connection, DbTransaction snapshot, long count, byte[] lastMac)
    {
        var head = Sql.Single(connection, snapshot, "SELECT seq, mac, key_version, anchor FROM audit_head WHERE id = 1",
            r => new Tuple<long, byte[], int, byte[]>(r.GetInt64(0), (byte[])r["mac"], r.GetInt32(2), (byte[])r["anchor"]));
        if (head is null)
        {
            return count == 0 ? AuditVerification.Intact(0) : AuditVerification.Broken(count, count, "the audit head record is missing");
        }
        var (sequence, mac, keyVersion, anchor) = head;
        bool anchorValid;
        try
        {
            anchorValid = CryptographicOperations.FixedTimeEquals(anchor, HeadAnchor(keyVersion, sequence, mac));
        }
        catch (KeyNotFoundException)
        {
            anchorValid = false;
        }
        if (!anchorValid)
        {
            return AuditVerification.Broken(count, sequence, "the audit head record was altered");
        }
        if (sequence != count || !CryptographicOperations.FixedTimeEquals(mac, lastMac))
        {
            return AuditVerification.Broken(count, count + 1, $"records after {count} were removed (the head names record {sequence})");
        }
        return AuditVerification.Intact(count);
    }
}

internal sealed record AuditVerification(bool Ok, long VerifiedRecords, long? FirstBrokenSequence, string? Problem)
{
    public static AuditVerification Intact(long count) => new(true, count, null, null);

    public static AuditVerification Broken(long count, long sequence, string problem) => new(false, count, sequence, problem);
}
