using System.Data.Common;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Audit;

/// <summary>
/// Retention: deletes the records older than a cutoff in one transaction, moves the chain's base
/// to the first record kept (with the MAC it chains from, anchored with the audit key) and appends
/// an audit.pruned record saying so. The newest record is always kept, so the chain, its head and
/// external checkpoints of it stay continuous.
/// </summary>
internal sealed class AuditPruner(AuditChain audit, Keyring keyring)
{
    public AuditPruneResult? Prune(DbConnection c, DbTransaction t, DateTimeOffset cutoff)
    {
        // The chain's write lock: on PostgreSQL one replica prunes (or appends) at a time.
        Database.LockForWrite(c, t);
        if (Sql.Single(c, t, "SELECT MIN(seq), MAX(seq) FROM audit_log", r => r.IsDBNull(0) ? Array.Empty<long>() : [r.GetInt64(0), r.GetInt64(1)])
            is not [var oldest, var newest])
        {
            return null;
        }
        // Times follow sequence (records are stamped under the write lock), so the oldest records
        // are read first and the scan stops at the first one to keep.
        var firstKept = Math.Min(
            Sql.Scalar(c, t, "SELECT seq FROM audit_log WHERE at >= @cutoff ORDER BY seq LIMIT 1", ("@cutoff", cutoff.ToDb())) is { } kept
                ? Convert.ToInt64(kept, System.Globalization.CultureInfo.InvariantCulture)
                : newest,
            newest);
        if (firstKept <= oldest)
        {
            return null;
        }
        var previousMac = (byte[])Sql.Scalar(c, t, "SELECT mac FROM audit_log WHERE seq = @seq", ("@seq", firstKept - 1))!;
        var deleted = Sql.Execute(c, t, "DELETE FROM audit_log WHERE seq < @kept", ("@kept", firstKept));
        var version = keyring.CurrentVersion;
        Sql.Execute(c, t,
            """
            INSERT INTO audit_base (id, seq, prev_mac, key_version, anchor) VALUES (1, @seq, @mac, @kv, @anchor)
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, prev_mac = excluded.prev_mac, key_version = excluded.key_version, anchor = excluded.anchor
            """,
            ("@seq", firstKept), ("@mac", previousMac), ("@kv", version), ("@anchor", AuditMacs.Base(keyring, version, firstKept, previousMac)));
        Sql.Execute(c, t, "DELETE FROM audit_flags WHERE raised_at < @cutoff", ("@cutoff", cutoff.ToDb()));
        var record = audit.AppendNow(c, t, new AuditEntry(AuditActions.AuditPruned, AuditOutcomes.Success)
        {
            Actor = "broker",
            Detail = $"retention pruned {deleted} records ({oldest} to {firstKept - 1}) older than {cutoff:u}; the chain continues at record {firstKept} from MAC {Convert.ToHexStringLower(previousMac)}",
        });
        return new AuditPruneResult(oldest, firstKept - 1, firstKept, deleted, record.Sequence);
    }
}

internal sealed record AuditPruneResult(long FirstPruned, long LastPruned, long FirstRetained, int Deleted, long PruneRecord);
