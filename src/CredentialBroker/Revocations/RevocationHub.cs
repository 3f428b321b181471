using System.Diagnostics;
using Xares.Broker.Hosting;

namespace Xares.Broker.Revocations;

/// <summary>
/// The broker process's revocation streams, indexed by workspace and by user, so each row the
/// <see cref="RevocationDispatcher"/> reads once reaches exactly the streams it concerns: those of
/// its workspace and those of its user (session rows further narrowed to their session).
/// </summary>
internal sealed class RevocationHub
{
    /// <summary>Rows one stream may have queued; past that it is closed and resumes from the log.</summary>
    public const int DefaultQueueCapacity = 1024;

    private readonly Dictionary<string, HashSet<RevocationSubscription>> _byWorkspace = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<RevocationSubscription>> _byUser = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _queueCapacity;

    public RevocationHub(int queueCapacity = DefaultQueueCapacity) => _queueCapacity = queueCapacity;

    /// <summary>
    /// Completes once the dispatcher knows where the log ends. A stream subscribes only after it,
    /// so every row is either in the stream's own catch-up read or dispatched to it.
    /// </summary>
    public Task Ready => _ready.Task;

    public int StreamCount
    {
        get
        {
            lock (_lock)
            {
                return _byWorkspace.Values.Sum(s => s.Count);
            }
        }
    }

    public RevocationSubscription Subscribe(string workspaceId, string userId, string sessionId)
    {
        var subscription = new RevocationSubscription(this, workspaceId, userId, sessionId, _queueCapacity);
        lock (_lock)
        {
            Add(_byWorkspace, workspaceId, subscription);
            Add(_byUser, userId, subscription);
        }
        BrokerMetrics.RevocationStreams.Inc();
        return subscription;
    }

    /// <summary>Offers each row to the streams it concerns, in order; never waits on a stream.</summary>
    public void Dispatch(IReadOnlyList<Revocation> rows)
    {
        var dispatchedAt = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            foreach (var row in rows)
            {
                if (row.WorkspaceId is { } workspaceId && _byWorkspace.TryGetValue(workspaceId, out var ofWorkspace))
                {
                    foreach (var subscription in ofWorkspace)
                    {
                        subscription.Offer(row, dispatchedAt);
                    }
                }
                if (row.UserId is { } userId && _byUser.TryGetValue(userId, out var ofUser))
                {
                    foreach (var subscription in ofUser)
                    {
                        // Already offered through its workspace.
                        if (subscription.WorkspaceId != row.WorkspaceId)
                        {
                            subscription.Offer(row, dispatchedAt);
                        }
                    }
                }
            }
        }
    }

    public void MarkReady() => _ready.TrySetResult();

    internal void Unsubscribe(RevocationSubscription subscription)
    {
        bool removed;
        lock (_lock)
        {
            removed = Remove(_byWorkspace, subscription.WorkspaceId, subscription);
            Remove(_byUser, subscription.UserId, subscription);
        }
        if (removed)
        {
            BrokerMetrics.RevocationStreams.Dec();
        }
    }

    private static void Add(Dictionary<string, HashSet<RevocationSubscription>> index, string key, RevocationSubscription subscription)
    {
        if (!index.TryGetValue(key, out var set))
        {
            index[key] = set = [];
        }
        set.Add(subscription);
    }

    private static bool Remove(Dictionary<string, HashSet<RevocationSubscription>> index, string key, RevocationSubscription subscription)
    {
        if (!index.TryGetValue(key, out var set) || !set.Remove(subscription))
        {
            return false;
        }
        if (set.Count == 0)
        {
            index.Remove(key);
        }
        return true;
    }
}
