using System.Data.Common;
using System.Text.Json;
using Xares.Broker.Storage;

namespace Xares.Broker.CredentialHealth;

/// <summary>The last test of each credential's secret (credential_health). Explicit SQL, both dialects.</summary>
internal static class CredentialHealthStore
{
    private const string Columns = "credential_id, secret_version, status, reason, checked_at, identity, provider_expires_at";

    /// <summary>
    /// Records a test of <paramref name="secretVersion"/>, only while that is still the credential's
    /// current version (a test that raced a secret change or a delete records nothing).
    /// </summary>
    public static bool Record(DbConnection connection, DbTransaction transaction, string credentialId, long secretVersion, CredentialTestResult result) =>
        Sql.Execute(connection, transaction,
            $"""
            INSERT INTO credential_health ({Columns})
            SELECT id, secret_version, @status, @reason, @checked, @identity, @expires FROM credentials WHERE id = @id AND secret_version = @version
            ON CONFLICT (credential_id) DO UPDATE SET secret_version = excluded.secret_version, status = excluded.status, reason = excluded.reason,
                checked_at = excluded.checked_at, identity = excluded.identity, provider_expires_at = excluded.provider_expires_at
            """,
            ("@id", credentialId), ("@version", secretVersion), ("@status", result.Status), ("@reason", result.Reason), ("@checked", result.CheckedAt.ToDb()),
            ("@identity", result.Identity is null ? null : JsonSerializer.Serialize(result.Identity, JsonSerializerOptions.Web)),
            ("@expires", result.Identity?.ExpiresAt.ToDb())) == 1;

    public static CredentialHealthRow? Find(DbConnection connection, string credentialId) =>
        Sql.Single(connection, null, $"SELECT {Columns} FROM credential_health WHERE credential_id = @id", Read, ("@id", credentialId));

    /// <summary>Health rows of the credentials whose ids <paramref name="idsSql"/> selects (a subquery with its parameters).</summary>
    public static Dictionary<string, CredentialHealthRow> ForIdsIn(DbConnection connection, string idsSql, params (string Name, object? Value)[] parameters) =>
        Sql.Query(connection, null, $"SELECT {Columns} FROM credential_health WHERE credential_id IN ({idsSql})", Read, parameters)
            .ToDictionary(r => r.CredentialId, StringComparer.Ordinal);

    /// <summary>
    /// Credentials the scheduler should test now, oldest check first: never tested (or not since
    /// their secret changed), tested before <paramref name="dueBefore"/>, or flagged by a git
    /// rejection after their last test (rule g: a flag schedules a re-test).
    /// </summary>
    public static List<string> Due(DbConnection connection, DateTimeOffset dueBefore, int limit) =>
        Sql.Query(connection, null,
            """
            SELECT c.id FROM credentials c LEFT JOIN credential_health h ON h.credential_id = c.id
            WHERE h.credential_id IS NULL OR h.secret_version <> c.secret_version OR h.checked_at <= @due
                OR (c.flagged_at IS NOT NULL AND c.flagged_at > h.checked_at)
            ORDER BY CASE WHEN c.flagged_at IS NOT NULL AND h.checked_at IS NOT NULL AND c.flagged_at > h.checked_at THEN 0 ELSE 1 END,
                COALESCE(h.checked_at, 0), c.id
            LIMIT @limit
            """,
            r => r.GetString(0), ("@due", dueBefore.ToDb()), ("@limit", limit));

    private static CredentialHealthRow Read(DbDataReader r) => new(
        r.GetString(0), r.GetInt64(1), r.GetString(2), r.NullableString(3), r.Time(4),
        r.NullableString(5) is { } json ? JsonSerializer.Deserialize<ProviderIdentity>(json, JsonSerializerOptions.Web) : null,
        r.NullableTime(6));
}

/// <summary>A stored test result; it describes the credential only while <see cref="SecretVersion"/> is current.</summary>
internal sealed record CredentialHealthRow(
    string CredentialId,
    long SecretVersion,
    string Status,
    string? Reason,
    DateTimeOffset CheckedAt,
    ProviderIdentity? Identity,
    DateTimeOffset? ProviderExpiresAt);
