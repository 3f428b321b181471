using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Revocations;

/// <summary>
/// Feeds one sidecar's revocation stream from the durable log: woken by <see cref="RevocationSignal"/>
/// after commits, and polling on a short interval behind it, so a lost wake-up delays nothing
/// beyond the poll. Ends when the session is no longer live.
/// </summary>
internal sealed class RevocationWatcher(Database database, RevocationSignal signal, TimeProvider time)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public async Task StreamAsync(SessionContext session, long afterSequence, Func<RevocationEvent, Task> write, CancellationToken cancellationToken)
    {
        var last = afterSequence;
        while (!cancellationToken.IsCancellationRequested)
        {
            var pulse = signal.NextPulse;
            var (rows, live) = await database.ReadAsync(c =>
                (RevocationLog.ReadAfter(c, last, session.WorkspaceId, session.UserId), SessionStore.IsLive(c, session.SessionId, time.GetUtcNow())));
            foreach (var row in rows)
            {
                last = row.Sequence;
                // Session revocations go only to the session they end (a re-bootstrap ends the previous one).
                if (row.Kind == RevocationKinds.Session && row.TargetId != session.SessionId)
                {
                    continue;
                }
                await write(new RevocationEvent { Sequence = row.Sequence, Kind = ToKind(row.Kind), TargetId = row.TargetId });
            }
            if (!live)
            {
                return;
            }
            if (rows.Count == RevocationLog.PageSize)
            {
                continue;
            }
            await Task.WhenAny(pulse, Task.Delay(PollInterval, time, cancellationToken));
        }
    }

    private static RevocationEvent.Types.Kind ToKind(string kind) => kind switch
    {
        RevocationKinds.Lease => RevocationEvent.Types.Kind.Lease,
        RevocationKinds.Credential => RevocationEvent.Types.Kind.Credential,
        RevocationKinds.Session => RevocationEvent.Types.Kind.Session,
        RevocationKinds.Workspace => RevocationEvent.Types.Kind.Workspace,
        _ => RevocationEvent.Types.Kind.Unspecified,
    };
}
