using System.Data.Common;
using System.Globalization;
using Xares.Broker.Storage;

namespace Xares.Broker.Vault;

/// <summary>
/// Which keyring versions are still needed, and by what: a version wraps credentials' data keys,
/// and its derived audit key verifies the audit records and anchors made under it. A version in
/// use is never pruned. Every column naming a keyring version belongs in <see cref="References"/>
/// (a test checks the schema for columns that are missing here).
/// </summary>
internal static class KeyringUsage
{
    public static readonly IReadOnlyList<KeyringReference> References =
    [
        new("credentials", "kek_version", "credentials"),
        new("audit_log", "key_version", "audit records"),
        new("audit_head", "key_version", "audit head"),
        new("audit_base", "key_version", "audit chain base"),
        new("github_apps", "kek_version", "GitHub App keys"),
        new("minted_tokens", "kek_version", "minted tokens"),
        new("oauth_providers", "kek_version", "OAuth client secrets"),
        new("oauth_connections", "kek_version", "OAuth tokens"),
        new("oauth_connections", "device_kek_version", "OAuth device codes"),
        new("oauth_revocations", "kek_version", "OAuth revocations"),
        new("idempotency_keys", "kek_version", "stored idempotent answers"),
        new("data_protection_keys", "kek_version", "web UI data protection keys"),
    ];

    /// <summary>For each version in use, how many rows of each kind use it.</summary>
    public static Dictionary<int, Dictionary<string, long>> Count(DbConnection connection, DbTransaction? transaction)
    {
        var usage = new Dictionary<int, Dictionary<string, long>>();
        foreach (var reference in References)
        {
            var rows = Sql.Query(connection, transaction, $"SELECT {reference.Column}, COUNT(*) FROM {reference.Table} WHERE {reference.Column} IS NOT NULL GROUP BY {reference.Column}",
                r => (Version: Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture), Count: Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture)));
            foreach (var (version, count) in rows)
            {
                if (!usage.TryGetValue(version, out var byKind))
                {
                    usage[version] = byKind = [];
                }
                byKind[reference.What] = count;
            }
        }
        return usage;
    }
}

internal sealed record KeyringReference(string Table, string Column, string What);
