using Xares.Broker.Storage;

namespace Xares.Broker.Revocations;

/// <summary>
/// The process's one reader of the revocation log: woken by <see cref="RevocationSignal"/> (this
/// process's commits, and other replicas' via <see cref="RevocationListener"/>), it reads every row
/// after its position and hands them to the <see cref="RevocationHub"/>. A slow safety poll behind
/// the wake-ups bounds the delay of a lost one; the cost of either is one read per process, not per stream.
/// </summary>
internal sealed partial class RevocationDispatcher(Database database, RevocationSignal signal, RevocationHub hub, RevocationLogReads reads,
    TimeProvider time, ILogger<RevocationDispatcher> logger) : BackgroundService
{
    public static readonly TimeSpan DefaultSafetyPoll = TimeSpan.FromSeconds(3);

    /// <summary>How long a lost wake-up can delay a revocation; tests shorten it.</summary>
    public TimeSpan SafetyPoll { get; init; } = DefaultSafetyPoll;

    private long _position; // the last sequence handed to the hub

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Streams wait for this: from here on every new row is dispatched, everything before is theirs to catch up.
        while (!await TryFindLogEndAsync(stoppingToken))
        {
            await Wait(signal.NextPulse, stoppingToken);
        }
        hub.MarkReady();
        var reason = RevocationLogReads.Safety;
        while (!stoppingToken.IsCancellationRequested)
        {
            var pulse = signal.NextPulse; // before reading, so no pulse falls in between
            if (await ReadPageAsync(reason))
            {
                continue; // a full page: more are waiting
            }
            reason = await Wait(pulse, stoppingToken) == pulse ? RevocationLogReads.Dispatch : RevocationLogReads.Safety;
        }
    }

    private async Task<bool> TryFindLogEndAsync(CancellationToken stoppingToken)
    {
        try
        {
            _position = await database.ReadAsync(c => RevocationLog.LatestSequence(c));
            return true;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogReadFailed(logger, ex.Message);
            return false;
        }
    }

    /// <summary>Reads and dispatches one page; true when it was full.</summary>
    private async Task<bool> ReadPageAsync(string reason)
    {
        try
        {
            var after = _position;
            var rows = await database.ReadAsync(c => RevocationLog.ReadAll(c, after));
            reads.Count(reason);
            if (rows.Count > 0)
            {
                hub.Dispatch(rows);
                _position = rows[^1].Sequence;
            }
            return rows.Count == RevocationLog.PageSize;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database is away: the next wake-up or safety poll tries again from the same position.
            LogReadFailed(logger, ex.Message);
            return false;
        }
    }

    private async Task<Task> Wait(Task pulse, CancellationToken stoppingToken) =>
        await Task.WhenAny(pulse, Task.Delay(SafetyPoll, time, stoppingToken));

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Could not read the revocation log ({Reason}); retrying at the next wake-up or safety poll")]
    private static partial void LogReadFailed(ILogger logger, string reason);
}
