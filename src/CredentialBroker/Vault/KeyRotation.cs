using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;

namespace Xares.Broker.Vault;

/// <summary>
/// `xares-broker keys rotate|rekey|status`. Rotation commits a new key-encryption key first, then
/// re-wraps data keys row by row (each its own short transaction, so brokers keep serving), and
/// loops until no row uses an older version — rows written meanwhile by brokers that had not yet
/// seen the new version included. Running it again resumes where a crash left off.
/// </summary>
internal sealed class KeyRotation(Database database, Keyring keyring, AuditChain audit)
{
    private const int BatchSize = 200;

    public sealed record RotationResult(int Version, long Rewrapped, long Unreadable);

    public RotationResult Rotate(TextWriter progress, string actor)
    {
        var version = keyring.AddVersion();
        Audit(new AuditEntry(AuditActions.KeysRotate, AuditOutcomes.Success) { Actor = actor, Detail = $"key-encryption key version {version} added" });
        progress.WriteLine($"Key-encryption key version {version} is current; re-wrapping data keys…");
        var (rewrapped, unreadable) = RewrapOlder(version, progress);
        Audit(new AuditEntry(AuditActions.KeysRotate, unreadable == 0 ? AuditOutcomes.Success : AuditOutcomes.Failure)
        {
            Actor = actor, Detail = $"{rewrapped} data keys re-wrapped under version {version}; {unreadable} unreadable",
        });
        return new RotationResult(version, rewrapped, unreadable);
    }

    /// <summary>Re-wraps the keyring under a new master key; brokers must then be restarted with it.</summary>
    public void Rekey(MasterKey newMasterKey, string actor)
    {
        keyring.Rekey(newMasterKey);
        Audit(new AuditEntry(AuditActions.KeysRekey, AuditOutcomes.Success) { Actor = actor, Detail = $"keyring re-wrapped under {newMasterKey.Source}" });
    }

    /// <summary>Keyring versions and how many credentials each protects.</summary>
    public IReadOnlyList<(int Version, long Credentials)> Status()
    {
        var counts = database.ReadAsync(c => Sql.Query(c, null, "SELECT kek_version, COUNT(*) FROM credentials GROUP BY kek_version",
            r => (Version: Convert.ToInt32(r.GetValue(0)), Count: Convert.ToInt64(r.GetValue(1))))).GetAwaiter().GetResult()
            .ToDictionary(x => x.Version, x => x.Count);
        return keyring.Versions.Order().Select(v => (v, counts.GetValueOrDefault(v))).ToList();
    }

    private (long Rewrapped, long Unreadable) RewrapOlder(int version, TextWriter progress)
    {
        long rewrapped = 0;
        var unreadable = new HashSet<string>(StringComparer.Ordinal);
        var total = Remaining(version);
        while (true)
        {
            var ids = database.ReadAsync(c => Sql.Query(c, null,
                "SELECT id FROM credentials WHERE kek_version < @v ORDER BY id LIMIT @n", r => r.GetString(0), ("@v", version), ("@n", BatchSize + unreadable.Count)))
                .GetAwaiter().GetResult().Where(id => !unreadable.Contains(id)).ToList();
            if (ids.Count == 0)
            {
                return (rewrapped, unreadable.Count);
            }
            foreach (var id in ids)
            {
                if (RewrapOne(id, version))
                {
                    rewrapped++;
                }
                else
                {
                    unreadable.Add(id);
                }
            }
            progress.WriteLine($"  {rewrapped}/{Math.Max(total, rewrapped)} re-wrapped{(unreadable.Count > 0 ? $", {unreadable.Count} unreadable" : "")}");
        }
    }

    private bool RewrapOne(string id, int version)
    {
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        var record = CredentialStore.Find(connection, transaction, id);
        if (record is null || record.Sealed.KekVersion >= version)
        {
            return true;
        }
        SealedSecret rewrapped;
        try
        {
            rewrapped = keyring.Rewrap(record.Sealed, record.Context);
        }
        catch (SecretIntegrityException)
        {
            // A tampered row stays as it is (and keeps failing to open); the count is reported.
            return false;
        }
        // Guarded by the versions read, so a secret replaced meanwhile is not overwritten.
        Sql.Execute(connection, transaction,
            "UPDATE credentials SET kek_version = @kv, wrapped_dek = @w WHERE id = @id AND kek_version = @old AND secret_version = @sv",
            ("@kv", rewrapped.KekVersion), ("@w", rewrapped.WrappedDataKey), ("@id", id), ("@old", record.Sealed.KekVersion), ("@sv", record.SecretVersion));
        transaction.Commit();
        return true;
    }

    private long Remaining(int version) =>
        database.ReadAsync(c => Convert.ToInt64(Sql.Scalar(c, null, "SELECT COUNT(*) FROM credentials WHERE kek_version < @v", ("@v", version)) ?? 0L))
            .GetAwaiter().GetResult();

    private void Audit(AuditEntry entry)
    {
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        audit.Append(connection, transaction, entry);
        transaction.Commit();
    }
}
