using System.Diagnostics;
using System.Threading.Channels;
using System.Data.Common;
using Xares.Broker.Storage.Postgres;

namespace Xares.Broker.Storage;

/// <summary>
/// The single writer of the database, with group commit. SQLite allows one writer at a time
/// (and on PostgreSQL the replicas' writers take turns under one advisory lock),
/// and every state change here must commit together with its audit record (fail closed), so
/// instead of many connections fighting for the write lock and paying one fsync each, callers
/// queue units of work; the writer runs a batch of them in one transaction (a failing unit rolls
/// back alone: in a savepoint on SQLite, by a rerun of the batch without it on PostgreSQL),
/// commits once, and only then completes the callers' tasks. Nothing a unit returns is visible to its caller before the commit is durable.
/// </summary>
internal sealed class WriteQueue : IAsyncDisposable
{
    private const int MaxBatch = 256;

    // The after-commit actions of the batch running on this thread (a batch runs synchronously, on one thread).
    [ThreadStatic]
    private static List<Action>? t_afterCommit;

    // The before-commit actions of the batch running on this thread, in the order units registered them.
    [ThreadStatic]
    private static List<Action>? t_beforeCommit;
    private readonly Channel<IWorkItem> _channel = Channel.CreateUnbounded<IWorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Database _database;
    private readonly Action _afterCommit;
    private readonly Action? _commitGate;
    private readonly Task _writer;
    private int _waiting;

    /// <param name="afterCommit">Runs on the writer after each durable commit (e.g. to wake the revocation dispatcher).</param>
    /// <param name="commitGate">
    /// Runs on the writer just before each COMMIT, after the units' <see cref="BeforeCommit"/> actions
    /// (the required audit devices take the batch's records here). What it throws fails every unit of
    /// the batch, and nothing commits.
    /// </param>
    public WriteQueue(Database database, Action afterCommit, Action? commitGate = null)
    {
        _database = database;
        _afterCommit = afterCommit;
        _commitGate = commitGate;
        _writer = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction; completes after the commit is durable.
    /// A <see cref="WritePrecondition"/> set for the caller's request is checked in the same transaction.
    /// </summary>
    public Task<T> ExecuteAsync<T>(Func<DbConnection, DbTransaction, T> work)
    {
        var item = new WorkItem<T>(WritePrecondition.Guard(work)) { Trace = StartUnitSpan() };
        Interlocked.Increment(ref _waiting);
        if (!_channel.Writer.TryWrite(item))
        {
            Interlocked.Decrement(ref _waiting);
            throw new ObjectDisposedException(nameof(WriteQueue));
        }
        return item.Completion.Task;
    }

    // A `db.write` span under the caller's (the request's) span, from queueing to commit. The caller's
    // current span stays current: this method returns before the unit runs.
    private static Activity? StartUnitSpan()
    {
        var caller = Activity.Current;
        var span = Hosting.BrokerTracing.Source.StartActivity("db.write");
        Activity.Current = caller;
        return span;
    }

    /// <summary>
    /// Runs <paramref name="action"/> after the write unit that calls this has committed, and not at
    /// all if the unit rolls back: for counters of what a unit wrote (a failing unit, or a batch that
    /// is run again, must not count twice). Outside a write unit it runs at once.
    /// </summary>
    public static void AfterCommit(Action action)
    {
        if (t_afterCommit is { } pending)
        {
            pending.Add(action);
        }
        else
        {
            action();
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the writer just before the batch of the unit that calls this
    /// commits (after PostgreSQL's held-back audit records are numbered), and not at all if the unit
    /// rolls back. Outside a write unit it runs at once.
    /// </summary>
    public static void BeforeCommit(Action action)
    {
        if (t_beforeCommit is { } pending)
        {
            pending.Add(action);
        }
        else
        {
            action();
        }
    }

    /// <summary>Units waiting for the writer (not yet in a running batch).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public Task ExecuteAsync(Action<DbConnection, DbTransaction> work) =>
        ExecuteAsync<bool>((c, t) => { work(c, t); return true; });

    private async Task RunAsync()
    {
        var batch = new List<IWorkItem>(MaxBatch);
        DbConnection? connection = null;
        try
        {
            while (await _channel.Reader.WaitToReadAsync())
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _channel.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                    Interlocked.Decrement(ref _waiting);
                }
                // One span per commit, linked to the units' spans (they belong to other requests' traces).
                using var span = Hosting.BrokerTracing.Source.StartActivity("db.write_batch", ActivityKind.Client, default(ActivityContext),
                    [new("db.system.name", _database.Kind == DatabaseKind.Postgres ? "postgresql" : "sqlite"), new("xares.write.units", batch.Count)],
                    batch.Select(item => item.Trace).OfType<Activity>().Select(unit => new ActivityLink(unit.Context)));
                try
                {
                    connection ??= _database.Open();
                    RunBatch(connection, batch, _commitGate);
                    _afterCommit();
                }
                catch (Audit.Devices.AuditDeviceUnavailableException refused)
                {
                    span?.SetStatus(ActivityStatusCode.Error, "refused by a required audit device");
                    // The gate refused the batch before its COMMIT: it rolled back, the connection is fine.
                    foreach (var item in batch)
                    {
                        item.Fail(refused);
                        item.Complete();
                    }
                }
                catch (Exception ex)
                {
                    // The database itself failed (locked, disk full, gone): nothing committed.
                    connection?.Dispose();
                    connection = null;
                    var failure = new StorageUnavailableException("The database could not commit the change.", ex);
                    span?.SetStatus(ActivityStatusCode.Error, "the database could not commit");
                    foreach (var item in batch)
                    {
                        item.Fail(failure);
                        item.Complete();
                    }
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private static void RunBatch(DbConnection connection, List<IWorkItem> batch, Action? commitGate)
    {
        // SQLite: each unit in a savepoint, so a failing one rolls back alone. PostgreSQL: a
        // savepoint costs two round trips per unit, so units run bare and a failing one (rare:
        // a constraint or a domain check) rolls the whole batch back; the others run again
        // without it. Nothing is visible to anyone before the commit either way.
        var savepoints = connection is not Npgsql.NpgsqlConnection;
        // PostgreSQL: writes nobody waits on are held back and ride along with the next statement
        // (PendingWrites); if one of them fails, the batch runs again with each write sent at once,
        // so the failure lands on the unit that caused it.
        var deferWrites = !savepoints;
        var pending = batch;
        var afterCommit = new List<Action>();
        var beforeCommit = new List<Action>();
        void PassGate()
        {
            foreach (var action in beforeCommit)
            {
                action();
            }
            commitGate?.Invoke();
        }
        while (pending.Count > 0)
        {
            using var transaction = connection.BeginTransaction();
            // Each attempt registers its own: what an attempt rolled back registered nothing.
            afterCommit.Clear();
            beforeCommit.Clear();
            t_afterCommit = afterCommit;
            t_beforeCommit = beforeCommit;
            try
            {
                // On PostgreSQL, batches of all replicas take turns (see Database.LockForWrite).
                PendingWrites.Enable(deferWrites);
                PostgresLocks.LockForBatch(connection, transaction);
                var failed = savepoints ? RunInSavepoints(connection, transaction, pending) : RunUntilFailure(connection, transaction, pending);
                if (failed is not null)
                {
                    PendingWrites.Discard(connection);
                    transaction.Rollback();
                    pending = pending.Where(item => item != failed).ToList();
                    continue;
                }
                PendingWrites.Commit(connection, transaction, PassGate);
            }
            catch (DeferredWriteFailedException ex) when (deferWrites)
            {
                PendingWrites.Discard(connection);
                transaction.Rollback();
                // A stale condition was noted by its unit, which decides afresh on the rerun.
                deferWrites = ex.Stale;
                continue;
            }
            finally
            {
                PendingWrites.Enable(false);
                PendingWrites.Discard(connection);
                PostgresLocks.EndBatch();
                t_afterCommit = null;
                t_beforeCommit = null;
            }
            break;
        }
        foreach (var action in afterCommit)
        {
            action();
        }
        foreach (var item in batch)
        {
            item.Complete();
        }
    }

    private static IWorkItem? RunInSavepoints(DbConnection connection, DbTransaction transaction, List<IWorkItem> batch)
    {
        var (afterCommit, beforeCommit) = (t_afterCommit!, t_beforeCommit!);
        foreach (var item in batch)
        {
            Sql.Execute(connection, transaction, "SAVEPOINT unit");
            var (registered, registeredBefore) = (afterCommit.Count, beforeCommit.Count);
            try
            {
                item.Run(connection, transaction);
                Sql.Execute(connection, transaction, "RELEASE unit");
            }
            catch (Exception ex) when (!Database.IsTransactionFatal(ex))
            {
                Database.Execute(connection, "ROLLBACK TO unit; RELEASE unit", transaction);
                afterCommit.RemoveRange(registered, afterCommit.Count - registered);
                beforeCommit.RemoveRange(registeredBefore, beforeCommit.Count - registeredBefore);
                item.Fail(ex);
            }
        }
        return null;
    }

    /// <summary>Runs units until one fails; returns it (marked failed), or null when all ran.</summary>
    private static IWorkItem? RunUntilFailure(DbConnection connection, DbTransaction transaction, List<IWorkItem> batch)
    {
        foreach (var item in batch)
        {
            try
            {
                item.Run(connection, transaction);
            }
            catch (Exception ex) when (ex is not DeferredWriteFailedException && !Database.IsTransactionFatal(ex))
            {
                item.Fail(ex);
                return item;
            }
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _writer;
    }

    private interface IWorkItem
    {
        /// <summary>The unit's `db.write` span, when tracing is on.</summary>
        Activity? Trace { get; }

        void Run(DbConnection connection, DbTransaction transaction);
        void Complete();
        void Fail(Exception exception);
    }

    private sealed class WorkItem<T>(Func<DbConnection, DbTransaction, T> work) : IWorkItem
    {
        private T? _result;
        private Exception? _error;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Activity? Trace { get; init; }

        public void Run(DbConnection connection, DbTransaction transaction) => _result = work(connection, transaction);

        public void Fail(Exception exception) => _error ??= exception;

        public void Complete()
        {
            if (Trace is { } span)
            {
                // Stopping a span makes its parent current; the writer's thread keeps none.
                var current = Activity.Current;
                if (_error is not null)
                {
                    span.SetStatus(ActivityStatusCode.Error, _error.GetType().Name);
                }
                span.Stop();
                Activity.Current = current;
            }
            if (_error is not null)
            {
                Completion.TrySetException(_error);
            }
            else
            {
                Completion.TrySetResult(_result!);
            }
        }
    }
}

/// <summary>The database could not be reached or could not commit; nothing was changed.</summary>
internal sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
