using System.Data.Common;

namespace Xares.Broker.Storage;

/// <summary>
/// A condition on one row that a request's first write unit must meet (HTTP If-Match): set for
/// the request's async flow, checked by <see cref="WriteQueue"/> inside that unit's transaction, so
/// no other writer (of any replica: write units take turns) can change the row between the check
/// and the write. The unit runs first, so "not found" answers win over a failed condition (no
/// probing of ids through If-Match); then the check, which rolls the unit back if it fails.
/// </summary>
internal sealed class WritePrecondition(VersionedTable table, string id, Action<long?> check)
{
    private static readonly AsyncLocal<WritePrecondition?> Current = new();
    private readonly Action<long?> _check = check;
    private int _taken;

    public VersionedTable Table { get; } = table;

    public string Id { get; } = id;

    /// <summary>The row's version after the guarded unit wrote it (null: deleted, or no unit ran).</summary>
    public long? VersionAfter { get; private set; }

    /// <summary>Whether a write unit took this condition (false: the request wrote nothing).</summary>
    public bool Applied => Volatile.Read(ref _taken) == 1;

    /// <summary>Makes <paramref name="precondition"/> the condition of the write units this async flow queues next.</summary>
    public static void Set(WritePrecondition? precondition) => Current.Value = precondition;

    /// <summary>Wraps the first write unit queued under a condition; every other unit is returned as it is.</summary>
    public static Func<DbConnection, DbTransaction, T> Guard<T>(Func<DbConnection, DbTransaction, T> work)
    {
        if (Current.Value is not { } precondition || Interlocked.Exchange(ref precondition._taken, 1) == 1)
        {
            return work;
        }
        return (connection, transaction) =>
        {
            var before = RowVersions.Find(connection, transaction, precondition.Table, precondition.Id);
            var result = work(connection, transaction);
            precondition._check(before);
            precondition.VersionAfter = RowVersions.Find(connection, transaction, precondition.Table, precondition.Id);
            return result;
        };
    }
}
