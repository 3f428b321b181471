using System.Data.Common;
using System.Security.Cryptography;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Audit;

/// <summary>
/// Walks the audit chain from its base (record 1, or the first record retention kept), checks the
/// head at its end, and compares it with external checkpoints: a checkpointed MAC the chain no
/// longer has means a restore or a rewrite; a checkpoint past the chain's end means a cut tail or an
/// older backup. Checkpoints older than the base name pruned records and are skipped.
/// </summary>
internal sealed class AuditVerifier(Keyring keyring, AuditCheckpointSet checkpoints)
{
    public AuditVerification Verify(DbConnection connection)
    {
        // One snapshot for the base, the walk and the head, so appends and prunes committing
        // meanwhile (other writers, other replicas) are either wholly in it or wholly out of it.
        using var snapshot = connection is Microsoft.Data.Sqlite.SqliteConnection sqlite
            ? sqlite.BeginTransaction(deferred: true)
            : connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
        var chainBase = Sql.Single(connection, snapshot, "SELECT seq, prev_mac, key_version, anchor FROM audit_base WHERE id = 1",
            r => new ChainBase(r.GetInt64(0), (byte[])r["prev_mac"], r.GetInt32(2), (byte[])r["anchor"]));
        var first = chainBase?.Sequence ?? 1;
        if (chainBase is not null && !AuditMacs.Matches(chainBase.Anchor, () => AuditMacs.Base(keyring, chainBase.KeyVersion, chainBase.Sequence, chainBase.PreviousMac)))
        {
            return AuditVerification.Broken(0, first, "the audit base record (where the chain starts after pruning) was altered") with { FirstSequence = first };
        }
        var walk = Walk(connection, snapshot, first, chainBase?.PreviousMac ?? []);
        var last = first + walk.Count - 1;
        // The head is read after the walk's reader is closed: PostgreSQL runs one command at a time per connection.
        var result = walk.Broken ?? VerifyHead(connection, snapshot, walk.Count, last, walk.LastMac) ?? VerifyAgainstCheckpoints(walk.Count, first, last)
            ?? AuditVerification.Intact(walk.Count);
        return result with { FirstSequence = first, CheckpointsChecked = walk.CheckpointsChecked };
    }

    private Walked Walk(DbConnection connection, DbTransaction snapshot, long first, byte[] previousMac)
    {
        using var command = Sql.Command(connection, $"SELECT {AuditRecord.Columns}, mac FROM audit_log ORDER BY seq", snapshot);
        using var reader = command.ExecuteReader();
        var expected = first;
        long count = 0;
        var compared = 0;
        AuditVerification? Broken(long sequence, string problem) => AuditVerification.Broken(count, sequence, problem);
        while (reader.Read())
        {
            var record = AuditRecord.Read(reader);
            var mac = (byte[])reader["mac"];
            if (record.Sequence != expected)
            {
                return new(Broken(expected, $"record {expected} is missing or out of order (found {record.Sequence})"), count, previousMac, compared);
            }
            byte[] key;
            try
            {
                key = keyring.AuditKey(record.KeyVersion);
            }
            catch (KeyNotFoundException)
            {
                return new(Broken(record.Sequence, $"record {record.Sequence} names unknown key version {record.KeyVersion}"), count, previousMac, compared);
            }
            if (!CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(key, record.ChainInput(previousMac))))
            {
                return new(Broken(record.Sequence, $"record {record.Sequence} was altered, or a record before it was removed or reordered"), count, previousMac, compared);
            }
            foreach (var checkpoint in checkpoints.At(record.Sequence))
            {
                compared++;
                if (!CryptographicOperations.FixedTimeEquals(mac, checkpoint.Mac))
                {
                    return new(Broken(record.Sequence,
                        $"record {record.Sequence} differs from the checkpoint written {checkpoint.At:u}: the database was restored from an older backup, or the chain was rewritten"),
                        count, previousMac, compared);
                }
            }
            previousMac = mac;
            expected++;
            count++;
        }
        return new(null, count, previousMac, compared);
    }

    // The head must name the last record walked, with a valid anchor; otherwise records were cut from the end.
    private AuditVerification? VerifyHead(DbConnection connection, DbTransaction snapshot, long count, long last, byte[] lastMac)
    {
        var head = Sql.Single(connection, snapshot, "SELECT seq, mac, key_version, anchor FROM audit_head WHERE id = 1",
            r => new Tuple<long, byte[], int, byte[]>(r.GetInt64(0), (byte[])r["mac"], r.GetInt32(2), (byte[])r["anchor"]));
        if (head is null)
        {
            return count == 0 ? null : AuditVerification.Broken(count, last, "the audit head record is missing");
        }
        var (sequence, mac, keyVersion, anchor) = head;
        if (!AuditMacs.Matches(anchor, () => AuditMacs.Head(keyring, keyVersion, sequence, mac)))
        {
            return AuditVerification.Broken(count, sequence, "the audit head record was altered");
        }
        if (sequence != last || !CryptographicOperations.FixedTimeEquals(mac, lastMac))
        {
            return AuditVerification.Broken(count, last + 1, $"records after {last} were removed (the head names record {sequence})");
        }
        return null;
    }

    private AuditVerification? VerifyAgainstCheckpoints(long count, long first, long last)
    {
        // A line under a pruned key is fine when it names a pruned record (retention removed both);
        // one naming a record that is still kept can't be checked, so it counts as forged.
        var forged = checkpoints.ForgedLines.Concat(checkpoints.PrunedKeyLines.Where(p => p.Sequence >= first).Select(p => p.Line)).Order().ToList();
        if (forged.Count > 0)
        {
            return new AuditVerification(false, count, null,
                $"checkpoint file line(s) {string.Join(", ", forged.Take(10))} do not verify: the file was edited or lines were forged");
        }
        if (checkpoints.Latest is { } latest && latest.Sequence > last)
        {
            return AuditVerification.Broken(count, last + 1,
                $"the chain ends at record {last}, but the checkpoint written {latest.At:u} names record {latest.Sequence}: records were cut from the end, or the database was restored from an older backup");
        }
        return null;
    }

    private sealed record ChainBase(long Sequence, byte[] PreviousMac, int KeyVersion, byte[] Anchor);

    private sealed record Walked(AuditVerification? Broken, long Count, byte[] LastMac, int CheckpointsChecked);
}
