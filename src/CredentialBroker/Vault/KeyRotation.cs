using System.Data.Common;
using System.Globalization;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;

namespace Xares.Broker.Vault;

/// <summary>
/// `xares-broker keys rotate|rekey|status`. Rotation, under the key maintenance lock, commits a
/// new key-encryption key first, then re-wraps data keys row by row (each its own short
/// transaction, so brokers keep serving), and loops until no row uses an older version — rows
/// written meanwhile by brokers that had not yet seen the new version included: the last pass
/// runs only once every broker must have seen it. A crash leaves the version marked unfinished,
/// and running the command again resumes that rotation. GitHub App keys and minted tokens are
/// re-wrapped the same way, after the credentials of each pass.
/// </summary>
internal sealed class KeyRotation(Database database, Keyring keyring, AuditChain audit, TimeProvider time)
{
    private const int BatchSize = 200;

    public KeyRotation(Database database, Keyring keyring, AuditChain audit) : this(database, keyring, audit, TimeProvider.System)
    {
    }

    /// <summary>How old the new version must be before the final pass: brokers pick it up within <see cref="Keyring.CurrentVersionRecheck"/>.</summary>
    public TimeSpan Settle { get; init; } = Keyring.CurrentVersionRecheck + TimeSpan.FromSeconds(2);

    /// <summary>A pause before each batch. Test-only (crash tests need time to kill the process mid re-wrap); zero in production.</summary>
    public TimeSpan BatchDelay { get; init; }

    public sealed record RotationResult(int Version, bool Resumed, long Rewrapped, long Unreadable);

    /// <summary>The kinds of rows (<see cref="KeyringReference.What"/>) a rotation re-wraps under the new version; the rest keep theirs.</summary>
    public static IReadOnlySet<string> RewrappedKinds =>
        KeyringUsage.References.Where(r => r.Column == "kek_version" && (r.Table == "credentials" || OtherTables.Any(t => t.Name == r.Table)))
            .Select(r => r.What).ToHashSet(StringComparer.Ordinal);

    public sealed record VersionStatus(int Version, bool Current, bool Prunable, IReadOnlyDictionary<string, long> Usage);

    public RotationResult Rotate(TextWriter output, string actor, bool redrawProgress = false)
    {
        using var maintenance = KeyMaintenanceLock.Acquire(database, "keys rotate", time);
        var (version, resumed) = keyring.BeginRotation((connection, transaction, added) => audit.Append(connection, transaction,
            new AuditEntry(AuditActions.KeysRotate, AuditOutcomes.Success) { Actor = actor, Detail = $"key-encryption key version {added} added" }));
        output.WriteLine(resumed
            ? $"Resuming the unfinished rotation to key-encryption key version {version}; re-wrapping data keys…"
            : $"Key-encryption key version {version} committed and current; re-wrapping data keys…");

        var progress = new RewrapProgress(output, redrawProgress, time);
        var unreadable = new HashSet<string>(StringComparer.Ordinal);
        long rewrapped = 0;
        var total = Remaining(version);
        while (true)
        {
            rewrapped += RewrapOlder(version, maintenance, progress, unreadable, rewrapped, ref total);
            rewrapped += RewrapOtherTables(version, unreadable);
            progress.Report(rewrapped, total, unreadable.Count, force: true);
            progress.Finish();
            // Brokers that had not yet seen the version may still write rows under an older one;
            // once it is older than their recheck interval, one more pass that finds nothing is final.
            var wait = Settle - (time.GetUtcNow() - CreatedAt(version));
            if (wait <= TimeSpan.Zero && Remaining(version) == unreadable.Count)
            {
                break;
            }
            if (wait > TimeSpan.Zero)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Final pass: waiting {wait.TotalSeconds:0.0} s until every broker uses version {version}, then checking for rows written meanwhile…"));
                Thread.Sleep(wait);
            }
            maintenance.ThrowIfLost();
            total = rewrapped + Remaining(version) - unreadable.Count;
        }

        if (unreadable.Count == 0)
        {
            keyring.CompleteRotation(version);
        }
        Audit(new AuditEntry(AuditActions.KeysRotate, unreadable.Count == 0 ? AuditOutcomes.Success : AuditOutcomes.Failure)
        {
            Actor = actor,
            Detail = $"{rewrapped} data keys re-wrapped under version {version}; {unreadable.Count} unreadable"
                + (unreadable.Count == 0 ? "; rotation complete" : "; rotation left unfinished"),
        });
        return new RotationResult(version, resumed, rewrapped, unreadable.Count);
    }

    /// <summary>Re-wraps the keyring under a new master key; brokers must then be restarted with it.</summary>
    public void Rekey(MasterKey newMasterKey, string actor)
    {
        using var maintenance = KeyMaintenanceLock.Acquire(database, "keys rekey", time);
        keyring.Rekey(newMasterKey);
        Audit(new AuditEntry(AuditActions.KeysRekey, AuditOutcomes.Success) { Actor = actor, Detail = $"keyring re-wrapped under {newMasterKey.Source}" });
    }

    /// <summary>Keyring versions, what each protects, and whether `keys prune` would remove it.</summary>
    public (IReadOnlyList<VersionStatus> Versions, int? UnfinishedRotation, string? LockHolder) Status()
    {
        using var connection = database.Open();
        var versions = Sql.Query(connection, null, "SELECT version FROM keyring ORDER BY version", r => Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture));
        var usage = KeyringUsage.Count(connection, null);
        var unfinished = Keyring.UnfinishedRotation(connection, null);
        var statuses = versions.Select(v => new VersionStatus(v, v == versions[^1], unfinished is null && v != versions[^1] && !usage.ContainsKey(v),
            usage.GetValueOrDefault(v) ?? [])).ToList();
        return (statuses, unfinished, KeyMaintenanceLock.CurrentHolder(connection, null, time.GetUtcNow()));
    }

    private long RewrapOlder(int version, KeyMaintenanceLock maintenance, RewrapProgress progress, HashSet<string> unreadable, long doneBefore, ref long total)
    {
        long rewrapped = 0;
        while (true)
        {
            maintenance.ThrowIfLost();
            if (BatchDelay > TimeSpan.Zero)
            {
                Thread.Sleep(BatchDelay);
            }
            var ids = database.ReadAsync(c => Sql.Query(c, null,
                "SELECT id FROM credentials WHERE kek_version < @v ORDER BY id LIMIT @n", r => r.GetString(0), ("@v", version), ("@n", BatchSize + unreadable.Count)))
                .GetAwaiter().GetResult().Where(id => !unreadable.Contains(id)).ToList();
            if (ids.Count == 0)
            {
                return rewrapped;
            }
            rewrapped += RewrapBatch(ids, version, unreadable);
            total = Math.Max(total, doneBefore + rewrapped + unreadable.Count);
            progress.Report(doneBefore + rewrapped, total, unreadable.Count);
        }
    }

    /// <summary>The other sealed rows: GitHub App private keys and minted tokens, by the same rules as credentials.</summary>
    private static readonly SealedTable[] OtherTables =
    [
        new("github_apps", (c, t, id) => Minted.GitHubAppStore.Find(c, t, id) is { } app ? (app.SealedKey, app.KeyContext) : null),
        new("minted_tokens", (c, t, id) => Minted.MintedTokenStore.Find(c, t, id) is { } token ? (token.Sealed, token.Context) : null),
        // OAuth client secrets and queued revocations never change once written. Connections' token
        // pairs are sealed again under the current version by every refresh.
        new("oauth_providers", (c, t, id) => Connections.OAuthProviderStore.Find(c, t, id) is { } provider ? (provider.SealedSecret, provider.SecretContext) : null),
        new("oauth_revocations", (c, t, id) => Connections.ConnectionRevocationOutbox.Find(c, t, id) is { } queued ? (queued.Sealed, queued.Context) : null),
    ];

    private sealed record SealedTable(string Name, Func<DbConnection, DbTransaction, string, (SealedSecret Sealed, SecretContext Context)?> Read);

    private long RewrapOtherTables(int version, HashSet<string> unreadable)
    {
        long rewrapped = 0;
        foreach (var table in OtherTables)
        {
            while (true)
            {
                var ids = database.ReadAsync(c => Sql.Query(c, null,
                    $"SELECT id FROM {table.Name} WHERE kek_version < @v ORDER BY id LIMIT @n", r => r.GetString(0), ("@v", version), ("@n", BatchSize + unreadable.Count)))
                    .GetAwaiter().GetResult().Where(id => !unreadable.Contains(id)).ToList();
                if (ids.Count == 0)
                {
                    break;
                }
                using var connection = database.Open();
                using var transaction = connection.BeginTransaction();
                Database.LockForWrite(connection, transaction);
                foreach (var id in ids)
                {
                    if (table.Read(connection, transaction, id) is not { } row || row.Sealed.KekVersion >= version)
                    {
                        continue;
                    }
                    try
                    {
                        var again = keyring.Rewrap(row.Sealed, row.Context);
                        rewrapped += Sql.Execute(connection, transaction,
                            $"UPDATE {table.Name} SET kek_version = @kv, wrapped_dek = @w WHERE id = @id AND kek_version = @old",
                            ("@kv", again.KekVersion), ("@w", again.WrappedDataKey), ("@id", id), ("@old", row.Sealed.KekVersion));
                    }
                    catch (SecretIntegrityException)
                    {
                        unreadable.Add(id);
                    }
                }
                transaction.Commit();
            }
        }
        return rewrapped;
    }

    // One short transaction per batch: few commits (fsyncs), and brokers wait at most one batch.
    private int RewrapBatch(List<string> ids, int version, HashSet<string> unreadable)
    {
        var rewrapped = 0;
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        // Taken like every broker write batch, so the two never deadlock on row locks (PostgreSQL).
        Database.LockForWrite(connection, transaction);
        foreach (var id in ids)
        {
            var record = CredentialStore.Find(connection, transaction, id);
            if (record is null || record.Sealed.KekVersion >= version)
            {
                continue; // deleted, or re-sealed under the new version by a broker meanwhile
            }
            SealedSecret sealedAgain;
            try
            {
                sealedAgain = keyring.Rewrap(record.Sealed, record.Context);
            }
            catch (SecretIntegrityException)
            {
                // A tampered row stays as it is (and keeps failing to open); the count is reported.
                unreadable.Add(id);
                continue;
            }
            // Guarded by the versions read, so a secret replaced meanwhile is not overwritten.
            rewrapped += Sql.Execute(connection, transaction,
                "UPDATE credentials SET kek_version = @kv, wrapped_dek = @w WHERE id = @id AND kek_version = @old AND secret_version = @sv",
                ("@kv", sealedAgain.KekVersion), ("@w", sealedAgain.WrappedDataKey), ("@id", id), ("@old", record.Sealed.KekVersion), ("@sv", record.SecretVersion));
        }
        transaction.Commit();
        return rewrapped;
    }

    private long Remaining(int version) =>
        database.ReadAsync(c => new[] { "credentials", "github_apps", "minted_tokens", "oauth_providers", "oauth_revocations" }.Sum(table =>
                Convert.ToInt64(Sql.Scalar(c, null, $"SELECT COUNT(*) FROM {table} WHERE kek_version < @v", ("@v", version)) ?? 0L, CultureInfo.InvariantCulture)))
            .GetAwaiter().GetResult();

    private DateTimeOffset CreatedAt(int version) =>
        DateTimeOffset.FromUnixTimeMilliseconds(database.ReadAsync(c =>
            Convert.ToInt64(Sql.Scalar(c, null, "SELECT created_at FROM keyring WHERE version = @v", ("@v", version)), CultureInfo.InvariantCulture)).GetAwaiter().GetResult());

    private void Audit(AuditEntry entry)
    {
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        audit.Append(connection, transaction, entry);
        transaction.Commit();
    }
}
