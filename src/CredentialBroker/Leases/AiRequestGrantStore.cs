using System.Data.Common;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>What the broker granted a proxy-mode lease and what its sidecar reported against it (migration 0016).</summary>
internal sealed record AiRequestGrant(string LeaseId, string CredentialId, string WorkspaceId, string UsageMonth, long Granted, long Returned,
    long ReportedRequests, long InputTokens, long OutputTokens)
{
    /// <summary>Granted and not given back: the requests this lease is charged for.</summary>
    public long Charged => Granted - Returned;
}

/// <summary>Requests and tokens of one workspace on one credential in a month (from its proxy-mode leases).</summary>
internal sealed record WorkspaceAiUsage(string WorkspaceId, long Requests, long InputTokens, long OutputTokens);

/// <summary>Explicit SQL for <c>ai_request_grants</c> and the refund of returned allowance.</summary>
internal static class AiRequestGrantStore
{
    private const string Columns = "lease_id, credential_id, workspace_id, usage_month, granted, returned, reported_requests, input_tokens, output_tokens";

    public static void Insert(DbConnection c, DbTransaction t, LeaseRecord lease, long granted, DateTimeOffset now) =>
        Sql.Write(c, t,
            $"INSERT INTO ai_request_grants ({Columns}, updated_at) VALUES (@lease, @cred, @ws, @month, @granted, 0, 0, 0, 0, @now)",
            ("@lease", lease.Id), ("@cred", lease.CredentialId), ("@ws", lease.WorkspaceId), ("@month", MonthlyQuota.MonthOf(now)),
            ("@granted", granted), ("@now", now.ToDb()));

    public static AiRequestGrant? Find(DbConnection c, DbTransaction? t, string leaseId) =>
        Sql.Single(c, t, $"SELECT {Columns} FROM ai_request_grants WHERE lease_id = @lease",
            r => new AiRequestGrant(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6),
                r.GetInt64(7), r.GetInt64(8)),
            ("@lease", leaseId));

    public static void AddGranted(DbConnection c, DbTransaction t, string leaseId, long granted, DateTimeOffset now) =>
        Sql.Write(c, t, "UPDATE ai_request_grants SET granted = granted + @n, usage_month = @month, updated_at = @now WHERE lease_id = @lease",
            ("@lease", leaseId), ("@n", granted), ("@month", MonthlyQuota.MonthOf(now)), ("@now", now.ToDb()));

    public static void AddReport(DbConnection c, DbTransaction t, string leaseId, long requests, long inputTokens, long outputTokens, long returned,
        DateTimeOffset now) =>
        Sql.Write(c, t,
            """
            UPDATE ai_request_grants SET reported_requests = reported_requests + @requests, input_tokens = input_tokens + @input,
                output_tokens = output_tokens + @output, returned = returned + @returned, updated_at = @now
            WHERE lease_id = @lease
            """,
            ("@lease", leaseId), ("@requests", requests), ("@input", inputTokens), ("@output", outputTokens), ("@returned", returned), ("@now", now.ToDb()));

    /// <summary>
    /// Takes returned allowance off the credential's counters: off this month's count only when it
    /// was granted this month (a refund never lowers a later month), never below zero.
    /// </summary>
    public static void Refund(DbConnection c, DbTransaction t, string credentialId, long returned, string grantMonth, DateTimeOffset now) =>
        Sql.Write(c, t,
            """
            UPDATE credentials SET
                uses_this_month = CASE WHEN usage_month = @month AND @month = @grantMonth AND uses_this_month >= @n THEN uses_this_month - @n
                                       WHEN usage_month = @month AND @month = @grantMonth THEN 0 ELSE uses_this_month END,
                total_uses = CASE WHEN total_uses >= @n THEN total_uses - @n ELSE 0 END
            WHERE id = @id
            """,
            ("@id", credentialId), ("@n", returned), ("@month", MonthlyQuota.MonthOf(now)), ("@grantMonth", grantMonth));

    /// <summary>Per workspace, the requests charged and tokens reported on a credential's proxy-mode leases last granted in <paramref name="month"/>.</summary>
    public static List<WorkspaceAiUsage> ByWorkspace(DbConnection c, DbTransaction? t, string credentialId, string month) =>
        Sql.Query(c, t,
            """
            SELECT workspace_id, CAST(SUM(granted - returned) AS BIGINT), CAST(SUM(input_tokens) AS BIGINT), CAST(SUM(output_tokens) AS BIGINT) FROM ai_request_grants
            WHERE credential_id = @cred AND usage_month = @month GROUP BY workspace_id ORDER BY workspace_id
            """,
            r => new WorkspaceAiUsage(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), ("@cred", credentialId), ("@month", month));

    /// <summary>Live leases of the credential that hold no request allowance (inject-mode leases).</summary>
    public static List<(string LeaseId, string WorkspaceId)> LiveLeasesWithoutGrants(DbConnection c, DbTransaction t, string credentialId, DateTimeOffset now) =>
        Sql.Query(c, t,
            """
            SELECT l.id, l.workspace_id FROM leases l
            WHERE l.credential_id = @cred AND l.revoked_at IS NULL AND l.expires_at > @now
              AND NOT EXISTS (SELECT 1 FROM ai_request_grants g WHERE g.lease_id = l.id)
            ORDER BY l.id
            """,
            r => (r.GetString(0), r.GetString(1)), ("@cred", credentialId), ("@now", now.ToDb()));

    /// <summary>
    /// Deletes up to <paramref name="limit"/> grant rows whose lease row is gone (pruned), last
    /// changed before <paramref name="cutoff"/> and in a month before <paramref name="currentMonth"/>; returns how many.
    /// </summary>
    public static int DeleteEndedBefore(DbConnection c, DbTransaction t, DateTimeOffset cutoff, string currentMonth, int limit) =>
        Sql.Execute(c, t,
            """
            DELETE FROM ai_request_grants WHERE lease_id IN (
                SELECT g.lease_id FROM ai_request_grants g
                WHERE g.updated_at < @cutoff AND g.usage_month < @month AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.id = g.lease_id)
                ORDER BY g.lease_id LIMIT @limit)
            """,
            ("@cutoff", cutoff.ToDb()), ("@month", currentMonth), ("@limit", limit));
}
