using System.Data.Common;
using Xares.Broker.Storage;

namespace Xares.Broker.Revocations;

internal static class RevocationKinds
{
    public const string Lease = "lease";
    public const string Credential = "credential";
    public const string Session = "session";
    public const string Workspace = "workspace";
}

internal sealed record Revocation(long Sequence, string Kind, string TargetId, string? WorkspaceId, string? UserId);

/// <summary>
/// The durable, ordered record of revocations. Written in the same transaction
/// as the change it announces; sidecars read it by sequence, so nothing is lost while one is away.
/// </summary>
internal sealed class RevocationLog(RevocationSignal signal, TimeProvider time)
{
    public const int PageSize = 500;

    public void Append(DbConnection connection, DbTransaction transaction, string kind, string targetId, string? workspaceId = null, string? userId = null)
    {
        // Sequence numbers must become visible in order, or a reader could skip one (PostgreSQL).
        Database.LockForWrite(connection, transaction);
        Sql.Execute(connection, transaction,
            "INSERT INTO revocations (kind, target_id, workspace_id, user_id, created_at) VALUES (@k, @t, @w, @u, @at)",
            ("@k", kind), ("@t", targetId), ("@w", workspaceId), ("@u", userId), ("@at", time.GetUtcNow().ToDb()));
        signal.MarkPending();
        WriteQueue.AfterCommit(() => Hosting.BrokerMetrics.Revocations.WithLabels(kind).Inc());
        // Other replicas' dispatchers: PostgreSQL delivers the notification at commit, and only then.
        RevocationListener.NotifyAtCommit(connection, transaction);
    }

    public static long LatestSequence(DbConnection connection, DbTransaction? transaction = null) =>
        Convert.ToInt64(Sql.Scalar(connection, transaction, "SELECT COALESCE(MAX(seq), 0) FROM revocations") ?? 0L);

    /// <summary>
    /// Deletes up to <paramref name="limit"/> of the oldest revocations recorded before
    /// <paramref name="cutoff"/>; returns how many. The newest one always stays, so the latest
    /// sequence a new session starts from never goes back.
    /// </summary>
    public static int DeleteBefore(DbConnection connection, DbTransaction transaction, DateTimeOffset cutoff, int limit) =>
        Sql.Execute(connection, transaction,
            """
            DELETE FROM revocations WHERE seq IN (
                SELECT seq FROM revocations WHERE created_at < @cutoff AND seq < (SELECT MAX(seq) FROM revocations) ORDER BY seq LIMIT @limit)
            """,
            ("@cutoff", cutoff.ToDb()), ("@limit", limit));

    /// <summary>A page of every revocation after <paramref name="afterSequence"/>: the dispatcher's one read for all streams.</summary>
    public static List<Revocation> ReadAll(DbConnection connection, long afterSequence) =>
        Sql.Query(connection, null,
            "SELECT seq, kind, target_id, workspace_id, user_id FROM revocations WHERE seq > @after ORDER BY seq LIMIT @limit",
            Read, ("@after", afterSequence), ("@limit", PageSize));

    /// <summary>Revocations after <paramref name="afterSequence"/> that concern this workspace or its owner.</summary>
    public static List<Revocation> ReadAfter(DbConnection connection, long afterSequence, string workspaceId, string userId) =>
        Sql.Query(connection, null,
            """
            SELECT seq, kind, target_id, workspace_id, user_id FROM revocations
            WHERE seq > @after AND (workspace_id = @ws OR user_id = @user)
            ORDER BY seq LIMIT @limit
            """,
            Read, ("@after", afterSequence), ("@ws", workspaceId), ("@user", userId), ("@limit", PageSize));

    private static Revocation Read(DbDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.NullableString(3), r.NullableString(4));
}
