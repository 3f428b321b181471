using Xares.Broker.Hosting;

namespace Xares.Broker.Revocations;

/// <summary>
/// Counts reads of the revocation log by reason, for /metrics and for tests that check one
/// revocation costs the same reads however many streams are connected.
/// </summary>
internal sealed class RevocationLogReads
{
    public const string Dispatch = "dispatch";
    public const string Safety = "safety";
    public const string CatchUp = "catchup";

    private long _dispatch;
    private long _safety;
    private long _catchUp;

    public long DispatchReads => Interlocked.Read(ref _dispatch);
    public long SafetyReads => Interlocked.Read(ref _safety);
    public long CatchUpReads => Interlocked.Read(ref _catchUp);

    public void Count(string reason)
    {
        switch (reason)
        {
            case Dispatch:
                Interlocked.Increment(ref _dispatch);
                break;
            case Safety:
                Interlocked.Increment(ref _safety);
                break;
            default:
                Interlocked.Increment(ref _catchUp);
                break;
        }
        BrokerMetrics.RevocationLogReads.WithLabels(reason).Inc();
    }
}
