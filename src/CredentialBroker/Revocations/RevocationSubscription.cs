using System.Threading.Channels;

namespace Xares.Broker.Revocations;

/// <summary>
/// One revocation stream's place in the <see cref="RevocationHub"/>: a bounded queue the hub
/// offers rows to and the stream drains. The hub never waits on it: a queue that fills up is
/// closed with <see cref="RevocationStreamOverflowException"/> after what it holds, so the
/// sidecar reconnects from the last sequence it got and reads the rest from the durable log.
/// </summary>
internal sealed class RevocationSubscription : IDisposable
{
    private readonly RevocationHub _hub;
    private readonly Channel<DispatchedRevocation> _queue;

    public RevocationSubscription(RevocationHub hub, string workspaceId, string userId, string sessionId, int capacity)
    {
        _hub = hub;
        WorkspaceId = workspaceId;
        UserId = userId;
        SessionId = sessionId;
        _queue = Channel.CreateBounded<DispatchedRevocation>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; nothing is dropped silently
            SingleReader = true,
            SingleWriter = true, // the hub dispatches from one loop
        });
    }

    public string WorkspaceId { get; }
    public string UserId { get; }
    public string SessionId { get; }

    /// <summary>Rows for this stream, in sequence order; faults with <see cref="RevocationStreamOverflowException"/> once drained after an overflow.</summary>
    public ChannelReader<DispatchedRevocation> Events => _queue.Reader;

    /// <summary>Queues a row that concerns this stream's workspace or user; never waits.</summary>
    public void Offer(Revocation row, long dispatchedAt)
    {
        // Session revocations go only to the session they end (a re-bootstrap ends the previous one).
        if (row.Kind == RevocationKinds.Session && row.TargetId != SessionId)
        {
            return;
        }
        if (!_queue.Writer.TryWrite(new DispatchedRevocation(row, dispatchedAt)))
        {
            _queue.Writer.TryComplete(new RevocationStreamOverflowException());
        }
    }

    public void Dispose() => _hub.Unsubscribe(this);
}

/// <summary>A row on its way to a stream, with the <see cref="System.Diagnostics.Stopwatch"/> timestamp of its dispatch (for the delivery-time metric).</summary>
internal readonly record struct DispatchedRevocation(Revocation Row, long DispatchedAt);

/// <summary>The stream fell behind its queue; the sidecar must reconnect from its last sequence.</summary>
internal sealed class RevocationStreamOverflowException()
    : Exception("The revocation stream fell behind; reconnect and resume from the last sequence received.");
