using System.Data.Common;
using System.Text;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>SQL for audit_flags.</summary>
internal static class AuditFlagStore
{
    // Held back (PostgreSQL) with the flag's audit record: nothing in the scan reads it back.
    public static void Insert(DbConnection c, DbTransaction t, AuditFlag flag) =>
        Sql.Write(c, t,
            $"INSERT INTO audit_flags ({AuditFlag.Columns}) VALUES (@seq, @id, @kind, @at, @user, @ws, @cred, @remote, @detail, NULL, NULL)",
            ("@seq", flag.Sequence), ("@id", flag.Id), ("@kind", flag.Kind), ("@at", flag.RaisedAt.ToDb()), ("@user", flag.UserId),
            ("@ws", flag.WorkspaceId), ("@cred", flag.CredentialId), ("@remote", flag.RemoteAddress), ("@detail", flag.Detail));

    /// <summary>Which of <paramref name="values"/> had a flag of this kind about them raised after <paramref name="since"/>.</summary>
    public static HashSet<string> RaisedSince(DbConnection c, DbTransaction t, string kind, AuditFlagSubject subject, IEnumerable<string> values,
        DateTimeOffset since)
    {
        var column = subject switch
        {
            AuditFlagSubject.Workspace => "workspace_id",
            AuditFlagSubject.Credential => "credential_id",
            _ => "remote_address",
        };
        return Sql.QueryIn(c, t, values, names => $"SELECT DISTINCT {column} FROM audit_flags WHERE kind = @kind AND raised_at > @since AND {column} IN ({names})",
            r => r.GetString(0), ("@kind", kind), ("@since", since.ToDb())).ToHashSet(StringComparer.Ordinal);
    }

    public static AuditFlag? Find(DbConnection c, DbTransaction? t, string id) =>
        Sql.Single(c, t, $"SELECT {AuditFlag.Columns} FROM audit_flags WHERE id = @id", AuditFlag.Read, ("@id", id));

    public static void Acknowledge(DbConnection c, DbTransaction t, string id, DateTimeOffset at, string by) =>
        Sql.Execute(c, t, "UPDATE audit_flags SET acknowledged_at = @at, acknowledged_by = @by WHERE id = @id AND acknowledged_at IS NULL",
            ("@at", at.ToDb()), ("@by", by), ("@id", id));

    /// <summary>The newest <paramref name="limit"/> flags that are still open (or already acknowledged), newest first.</summary>
    public static List<AuditFlag> Newest(DbConnection c, bool acknowledged, int limit) =>
        Sql.Query(c, null,
            $"SELECT {AuditFlag.Columns} FROM audit_flags WHERE acknowledged_at IS {(acknowledged ? "NOT " : "")}NULL ORDER BY seq DESC LIMIT @limit",
            AuditFlag.Read, ("@limit", limit));

    /// <summary>One page, newest first, and the cursor of the next page (null on the last one).</summary>
    public static (List<AuditFlag> Flags, string? NextCursor) Page(DbConnection c, AuditQuery query)
    {
        var sql = new StringBuilder($"SELECT {AuditFlag.Columns} FROM audit_flags WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        void Filter(string condition, string name, object? value)
        {
            if (value is not null)
            {
                sql.Append(" AND ").Append(condition);
                parameters.Add((name, value));
            }
        }
        Filter("user_id = @user", "@user", query.UserId);
        Filter("workspace_id = @ws", "@ws", query.WorkspaceId);
        Filter("raised_at >= @since", "@since", query.Since?.ToDb());
        Filter("seq < @before", "@before", query.Before);
        sql.Append(" ORDER BY seq DESC LIMIT @limit");
        parameters.Add(("@limit", query.Limit + 1));
        var flags = Sql.Query(c, null, sql.ToString(), AuditFlag.Read, [.. parameters]);
        if (flags.Count <= query.Limit)
        {
            return (flags, null);
        }
        flags.RemoveRange(query.Limit, flags.Count - query.Limit);
        return (flags, AuditCursor.Encode(flags[^1].Sequence));
    }
}

internal enum AuditFlagSubject
{
    Workspace,
    Credential,
    RemoteAddress,
}
