using System.Globalization;
using System.Text;
using System.Data.Common;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>The query string of GET /api/v1/audit, as it arrived.</summary>
internal sealed record AuditQueryParameters(string? UserId, string? WorkspaceId, string? CredentialId, string? Action, string? Since, string? Limit);

/// <summary>A validated audit query: equality filters, a lower time bound and a limit; newest first.</summary>
internal sealed record AuditQuery(string? UserId, string? WorkspaceId, string? CredentialId, string? Action, DateTimeOffset? Since, int Limit)
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
        errors.ThrowIfAny("The audit query is not valid.");
        return new AuditQuery(Blank(p.UserId), Blank(p.WorkspaceId), Blank(p.CredentialId), Blank(p.Action), since, limit);
    }

    public List<AuditRecord> Run(DbConnection connection)
    {
        var sql = new StringBuilder($"SELECT {AuditRecord.Columns} FROM audit_log WHERE 1 = 1");
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
        sql.Append(" ORDER BY seq DESC LIMIT @limit");
        parameters.Add(("@limit", Limit));
        return Sql.Query(connection, null, sql.ToString(), AuditRecord.Read, [.. parameters]);
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
