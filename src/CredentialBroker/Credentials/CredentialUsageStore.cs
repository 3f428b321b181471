using System.Data.Common;
using Xares.Broker.Storage;

namespace Xares.Broker.Credentials;

/// <summary>Explicit SQL for the usage counters of a credential (migration 0003).</summary>
internal static class CredentialUsageStore
{
    /// <summary>This month's uses and the limit of one credential, or null when it is gone.</summary>
    public static MonthlyQuota? Find(DbConnection connection, DbTransaction? transaction, string credentialId, DateTimeOffset now)
    {
        var month = MonthlyQuota.MonthOf(now);
        return Sql.Single(connection, transaction, "SELECT uses_this_month, usage_month, monthly_limit FROM credentials WHERE id = @id",
            r => new MonthlyQuota(r.NullableString(1) == month ? r.GetInt64(0) : 0, r.NullableInt64(2)), ("@id", credentialId));
    }

    /// <summary>
    /// Adds uses and tokens in one atomic UPDATE (starting the month over when it changed) and
    /// returns the counts after it, or null when the credential is gone. Atomic, so the uses
    /// before this call are exactly <c>after - uses</c> even with several writers.
    /// </summary>
    public static MonthlyQuota? Add(DbConnection connection, DbTransaction transaction, string credentialId, long uses, long inputTokens, long outputTokens,
        DateTimeOffset now) =>
        Sql.Single(connection, transaction,
            """
            UPDATE credentials SET
                uses_this_month = CASE WHEN usage_month = @month THEN uses_this_month + @uses ELSE @uses END,
                usage_month = @month,
                total_uses = total_uses + @uses,
                input_tokens = input_tokens + @input,
                output_tokens = output_tokens + @output,
                last_used_at = CASE WHEN @uses > 0 THEN @now ELSE last_used_at END
            WHERE id = @id
            RETURNING uses_this_month, monthly_limit
            """,
            r => new MonthlyQuota(r.GetInt64(0), r.NullableInt64(1)),
            ("@id", credentialId), ("@month", MonthlyQuota.MonthOf(now)), ("@uses", uses), ("@input", inputTokens), ("@output", outputTokens),
            ("@now", now.ToDb()));
}
