using System.Globalization;
using System.Text;
using System.Data.Common;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>The query string of GET /api/v1/audit, as it arrived.</summary>
internal sealed record AuditQueryParameters(string? UserId, string? WorkspaceId, string? CredentialId, string? Action, string? Since, string? Limit, string? Cursor);

/// <summary>
/// A validated audit query: equality filters, a lower time bound, a limit and an optional cursor
/// (only records older than it); newest first.
/// </summary>
internal sealed record AuditQuery(string? UserId, string? WorkspaceId, string? CredentialId, string? Action, DateTimeOffset? Since, int Limit, long? Before = null)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static AuditQuery Parse(AuditQueryParameters p)
    {
        var errors = new FieldErrors();
        DateTimeOffset? since = null;
        if (!string.IsNullOrEmpty(p.Since))
        {
            if (DateTimeOffset.TryParse(p.Since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                since = parsed;
            }
            else
            {
                errors.Add("since", "since must be an ISO 8601 timestamp, e.g. 2025-01-31T12:00:00Z.");
            }
        }
        var limit = DefaultLimit;
        if (!string.IsNullOrEmpty(p.Limit) && (!int.TryParse(p.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors.Add("limit", $"limit must be a whole number from 1 to {MaxLimit}.");
        }
        long? before = null;
        if (!string.IsNullOrEmpty(p.Cursor))
        {
            if (AuditCursor.TryDecode(p.Cursor, out var sequence))
            {
                before = sequence;
            }
            else
            {
                errors.Add("cursor", "cursor must be the nextCursor of a previous page, unchanged.");
            }
        }
        errors.ThrowIfAny("The audit query is not valid.");
        return new AuditQuery(Blank(p.UserId), Blank(p.WorkspaceId), Blank(p.CredentialId), Blank(p.Action), since, limit, before);
    }

    /// <summary>One page, newest first, and the cursor of the next page (null on the last one).</summary>
    public (List<AuditRecord> Records, string? NextCursor) Run(DbConnection connection)
    {
        var (sql, parameters) = Filtered(AuditRecord.Columns);
        if (Before is not null)
        {
            sql.Append(" AND seq < @before");
            parameters.Add(("@before", Before.Value));
        }
        // One row past the page says whether another page exists, without an empty last page.
        sql.Append(" ORDER BY seq DESC LIMIT @limit");
        parameters.Add(("@limit", Limit + 1));
        var records = Sql.Query(connection, null, sql.ToString(), AuditRecord.Read, [.. parameters]);
        if (records.Count <= Limit)
        {
            return (records, null);
        }
        records.RemoveRange(Limit, records.Count - Limit);
        return (records, AuditCursor.Encode(records[^1].Sequence));
    }

    /// <summary>Up to <paramref name="pageSize"/> records after <paramref name="afterSequence"/>, oldest first, with their MACs.</summary>
    public List<(AuditRecord Record, byte[] Mac)> ReadExportPage(DbConnection connection, long afterSequence, int pageSize)
    {
        var (sql, parameters) = Filtered($"{AuditRecord.Columns}, mac");
        sql.Append(" AND seq > @after ORDER BY seq LIMIT @limit");
        parameters.Add(("@after", afterSequence));
        parameters.Add(("@limit", pageSize));
        return Sql.Query(connection, null, sql.ToString(), r => (AuditRecord.Read(r), (byte[])r[12]), [.. parameters]);
    }

    private (StringBuilder Sql, List<(string, object?)> Parameters) Filtered(string columns)
    {
        var sql = new StringBuilder($"SELECT {columns} FROM audit_log WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        void Filter(string condition, string name, object? value)
        {
            if (value is not null)
            {
                sql.Append(" AND ").Append(condition);
                parameters.Add((name, value));
            }
        }
        Filter("user_id = @user", "@user", UserId);
        Filter("workspace_id = @ws", "@ws", WorkspaceId);
        Filter("credential_id = @cred", "@cred", CredentialId);
        Filter("action = @action", "@action", Action);
        Filter("at >= @since", "@since", Since?.ToDb());
        return (sql, parameters);
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
