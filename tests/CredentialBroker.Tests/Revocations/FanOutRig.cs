using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Xares.Broker.Revocations;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Revocations;

/// <summary>
/// One broker process's revocation fan-out on a real database: the dispatcher, the hub and the
/// watcher that feeds each stream, with seeded users, workspaces and sessions and streams that
/// collect what they are sent.
/// </summary>
internal sealed class FanOutRig : IAsyncDisposable
{
    private readonly ContractDatabase _db;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TestStream> _streams = [];

    private FanOutRig(ContractDatabase db, RevocationSignal? dispatcherSignal, TimeSpan safetyPoll, int queueCapacity, TimeProvider streamTime)
    {
        _db = db;
        Replica = db.AddReplica();
        Hub = new RevocationHub(queueCapacity);
        Dispatcher = new RevocationDispatcher(Replica.Database, dispatcherSignal ?? Replica.Signal, Hub, Reads, TimeProvider.System,
            NullLogger<RevocationDispatcher>.Instance) { SafetyPoll = safetyPoll };
        Watcher = new RevocationWatcher(Replica.Database, Hub, Reads, streamTime);
    }

    public ContractDatabase.Replica Replica { get; }
    public RevocationHub Hub { get; }
    public RevocationLogReads Reads { get; } = new();
    public RevocationDispatcher Dispatcher { get; }
    public RevocationWatcher Watcher { get; }

    /// <param name="dispatcherSignal">A signal for the dispatcher other than the one commits pulse (to lose every wake-up).</param>
    public static async Task<FanOutRig> StartAsync(StorageBackend backend, TimeSpan? safetyPoll = null, int queueCapacity = RevocationHub.DefaultQueueCapacity,
        RevocationSignal? dispatcherSignal = null, TimeProvider? streamTime = null)
    {
        var rig = new FanOutRig(await ContractDatabase.CreateAsync(backend), dispatcherSignal, safetyPoll ?? TimeSpan.FromHours(1), queueCapacity,
            streamTime ?? TimeProvider.System);
        await rig.Dispatcher.StartAsync(CancellationToken.None);
        await rig.Hub.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        // The dispatcher's first read follows at once; counts start after it.
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (rig.Reads.SafetyReads == 0)
        {
            await Task.Delay(10, giveUp.Token);
        }
        return rig;
    }

    public Task SeedAsync(string userId, params string[] workspaceIds) => Replica.Writes.ExecuteAsync((c, t) =>
    {
        Sql.Execute(c, t, "INSERT INTO users (id, name, created_at) VALUES (@id, @id, 0)", ("@id", userId));
        foreach (var workspaceId in workspaceIds)
        {
            Sql.Execute(c, t, "INSERT INTO workspaces (id, user_id, name, created_at) VALUES (@id, @user, 'w', 0)", ("@id", workspaceId), ("@user", userId));
        }
    });

    public async Task<SessionContext> OpenSessionAsync(string sessionId, string workspaceId, string userId, DateTimeOffset expiresAt)
    {
        await Replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t,
            "INSERT INTO sessions (id, workspace_id, created_at, expires_at) VALUES (@id, @ws, 0, @expires)",
            ("@id", sessionId), ("@ws", workspaceId), ("@expires", expiresAt.ToDb())));
        return new SessionContext(sessionId, workspaceId, userId, null, expiresAt, expiresAt);
    }

    /// <summary>Appends one revocation and commits it (the commit pulses the replica's signal).</summary>
    public Task<long> RevokeAsync(string kind, string targetId, string? workspaceId = null, string? userId = null) =>
        Replica.Writes.ExecuteAsync((c, t) =>
        {
            Replica.Revocations.Append(c, t, kind, targetId, workspaceId, userId);
            return RevocationLog.LatestSequence(c, t);
        });

    public Task<long> LatestSequenceAsync() => Replica.Database.ReadAsync(c => RevocationLog.LatestSequence(c));

    /// <param name="write">Runs before each event is collected (e.g. to hold the stream up).</param>
    public TestStream Open(SessionContext session, long afterSequence = 0, Func<RevocationEvent, Task>? write = null)
    {
        var stream = new TestStream(CancellationTokenSource.CreateLinkedTokenSource(_stop.Token));
        stream.Completion = Watcher.StreamAsync(session, afterSequence, async e =>
        {
            if (write is not null)
            {
                await write(e);
            }
            stream.Collect(e);
        }, stream.Cancel.Token);
        _streams.Add(stream);
        return stream;
    }

    /// <summary>Waits (bounded, not timed) until this many streams are subscribed to the hub.</summary>
    public async Task WaitForStreamsAsync(int count)
    {
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (Hub.StreamCount < count)
        {
            await Task.Delay(10, giveUp.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var stream in _streams)
        {
            await stream.Completion.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        await Dispatcher.StopAsync(CancellationToken.None);
        Dispatcher.Dispose();
        await _db.DisposeAsync();
        _stop.Dispose();
    }

    internal sealed class TestStream(CancellationTokenSource cancel)
    {
        private readonly Channel<RevocationEvent> _events = Channel.CreateUnbounded<RevocationEvent>();

        public CancellationTokenSource Cancel { get; } = cancel;
        public Task Completion { get; set; } = Task.CompletedTask;
        public List<RevocationEvent> Received { get; } = [];

        public void Collect(RevocationEvent e)
        {
            lock (Received)
            {
                Received.Add(e);
            }
            _events.Writer.TryWrite(e);
        }

        /// <summary>The next event written to this stream; a hang guard, not a timing assertion.</summary>
        public async Task<RevocationEvent> NextAsync()
        {
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await _events.Reader.ReadAsync(giveUp.Token);
        }

        public async Task<List<RevocationEvent>> TakeAsync(int count)
        {
            var taken = new List<RevocationEvent>();
            for (var i = 0; i < count; i++)
            {
                taken.Add(await NextAsync());
            }
            return taken;
        }

        /// <summary>Waits for the stream to end by itself (bounded).</summary>
        public Task EndedAsync() => Completion.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
