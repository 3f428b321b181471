using System.Data.Common;
using Xares.Broker.Storage;

namespace Xares.Broker.Credentials;

/// <summary>Explicit SQL for the usage counters of a credential (migration 0003).</summary>
internal static class CredentialUsageStore
{
    /// <summary>
    /// Adds uses and tokens in one atomic UPDATE (starting the month over when it changed) and
    /// returns the counts after it, or null when the credential is gone. Atomic, so the uses
    /// before this call are exactly <c>after - uses</c> even with several writers.
    /// </summary>
    public static MonthlyQuota? Add(DbConnection connection, DbTransaction transaction, string credentialId, long uses, long inputTokens, long outputTokens,
        DateTimeOffset now) =>
        Sql.Single(connection, transaction, AddSql + " RETURNING uses_this_month, monthly_limit",
            r => new MonthlyQuota(r.GetInt64(0), r.NullableInt64(1)),
            AddParameters(credentialId, uses, inputTokens, outputTokens, now));

    /// <summary>
    /// The same update when nobody needs the counts after it (no limit to cross): on PostgreSQL it
    /// rides along with the write batch's next statement instead of costing a round trip, and the
    /// batch's uses of one credential in one month add up into one statement (a credential shared
    /// by many workspaces would otherwise have its row rewritten for every lease).
    /// </summary>
    public static void AddUnlimited(DbConnection connection, DbTransaction transaction, string credentialId, long uses, DateTimeOffset now) =>
        Sql.WriteFolded(connection, transaction, $"usage {credentialId} {MonthlyQuota.MonthOf(now)}", ["@uses", "@input", "@output"], AddSql,
            AddParameters(credentialId, uses, 0, 0, now));

    /// <summary>The counting UPDATE, ending in <c>WHERE id = @id</c> so callers can add conditions.</summary>
    internal const string AddSql =
        """
        UPDATE credentials SET
            uses_this_month = CASE WHEN usage_month = @month THEN uses_this_month + @uses ELSE @uses END,
            usage_month = @month,
            total_uses = total_uses + @uses,
            input_tokens = input_tokens + @input,
            output_tokens = output_tokens + @output,
            last_used_at = CASE WHEN @uses > 0 THEN @now ELSE last_used_at END
        WHERE id = @id
        """;

    internal static (string, object?)[] AddParameters(string credentialId, long uses, long inputTokens, long outputTokens, DateTimeOffset now) =>
        [("@id", credentialId), ("@month", MonthlyQuota.MonthOf(now)), ("@uses", uses), ("@input", inputTokens), ("@output", outputTokens), ("@now", now.ToDb())];
}
