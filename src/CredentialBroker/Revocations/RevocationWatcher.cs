using System.Diagnostics;
using Xares.Broker.Hosting;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Revocations;

/// <summary>
/// Feeds one sidecar's revocation stream. It subscribes to the <see cref="RevocationHub"/> first,
/// then reads what it missed from the durable log itself (once per connect), then forwards what the
/// hub dispatches, skipping sequences it already sent. It ends after the event that ends its session
/// (its session's or its workspace's revocation), or when a timer at the session's expiry finds it over.
/// </summary>
internal sealed class RevocationWatcher(Database database, RevocationHub hub, RevocationLogReads reads, TimeProvider time)
{
    // The expiry timer is re-armed past this (timers have a ceiling); firing early costs one liveness read.
    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(1);
    // Fire just after the expiry, so the liveness read at that instant already finds the session over.
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Returns once the session has ended. Throws <see cref="RevocationStreamOverflowException"/> when
    /// the stream fell behind the hub; everything it wrote before is in order and without gaps.
    /// </summary>
    public async Task StreamAsync(SessionContext session, long afterSequence, Func<RevocationEvent, Task> write, CancellationToken cancellationToken)
    {
        await hub.Ready.WaitAsync(cancellationToken);
        using var subscription = hub.Subscribe(session.WorkspaceId, session.UserId, session.SessionId);
        var (last, liveUntil) = await CatchUpAsync(session, afterSequence, write);
        while (liveUntil is { } until)
        {
            using var expiry = new CancellationTokenSource(TimerFor(until), time);
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
            try
            {
                // Faults with the overflow once what was queued before it has been written.
                while (await subscription.Events.WaitToReadAsync(waiting.Token))
                {
                    while (subscription.Events.TryRead(out var dispatched))
                    {
                        var row = dispatched.Row;
                        if (row.Sequence <= last)
                        {
                            continue; // the catch-up read already sent it
                        }
                        last = row.Sequence;
                        await write(ToEvent(row));
                        BrokerMetrics.RevocationDelivery.Observe(Stopwatch.GetElapsedTime(dispatched.DispatchedAt).TotalSeconds);
                        if (Ends(session, row))
                        {
                            return;
                        }
                    }
                }
                throw new RevocationStreamOverflowException(); // the hub closes a queue only when it overflows
            }
            catch (OperationCanceledException) when (expiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                liveUntil = await database.ReadAsync(c => SessionStore.LiveUntil(c, session.SessionId, time.GetUtcNow()));
            }
        }
    }

    /// <summary>Writes what the log holds after <paramref name="afterSequence"/>; returns the last sequence and when the session ends (null: it has).</summary>
    private async Task<(long Last, DateTimeOffset? LiveUntil)> CatchUpAsync(SessionContext session, long afterSequence, Func<RevocationEvent, Task> write)
    {
        var last = afterSequence;
        var (rows, liveUntil) = await database.ReadAsync(c =>
            (RevocationLog.ReadAfter(c, last, session.WorkspaceId, session.UserId), SessionStore.LiveUntil(c, session.SessionId, time.GetUtcNow())));
        while (true)
        {
            reads.Count(RevocationLogReads.CatchUp);
            foreach (var row in rows)
            {
                last = row.Sequence;
                if (row.Kind == RevocationKinds.Session && row.TargetId != session.SessionId)
                {
                    continue; // another session's end (a re-bootstrap ends the previous one)
                }
                await write(ToEvent(row));
                if (Ends(session, row))
                {
                    return (last, null);
                }
            }
            if (rows.Count < RevocationLog.PageSize)
            {
                return (last, liveUntil);
            }
            var after = last;
            rows = await database.ReadAsync(c => RevocationLog.ReadAfter(c, after, session.WorkspaceId, session.UserId));
        }
    }

    private TimeSpan TimerFor(DateTimeOffset until)
    {
        var remaining = until - time.GetUtcNow();
        return remaining > LongestTimer ? LongestTimer : remaining < TimeSpan.Zero ? ExpiryMargin : remaining + ExpiryMargin;
    }

    private static bool Ends(SessionContext session, Revocation row) =>
        (row.Kind == RevocationKinds.Session && row.TargetId == session.SessionId)
        || (row.Kind == RevocationKinds.Workspace && row.TargetId == session.WorkspaceId);

    private static RevocationEvent ToEvent(Revocation row) => new()
    {
        Sequence = row.Sequence,
        Kind = row.Kind switch
        {
            RevocationKinds.Lease => RevocationEvent.Types.Kind.Lease,
            RevocationKinds.Credential => RevocationEvent.Types.Kind.Credential,
            RevocationKinds.Session => RevocationEvent.Types.Kind.Session,
            RevocationKinds.Workspace => RevocationEvent.Types.Kind.Workspace,
            _ => RevocationEvent.Types.Kind.Unspecified,
        },
        TargetId = row.TargetId,
    };
}
