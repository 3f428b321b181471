using System.Diagnostics;
using System.Globalization;
using Grpc.Core;

namespace Xares.Sidecar.Tests.Fakes;

/// <summary>Load shedding as the broker does it in a reconnect storm: Unavailable with a retry-after-ms trailer.</summary>
internal sealed partial class FakeBrokerState
{
    private int _watchesToShed;
    private TimeSpan _shedRetryHint;

    /// <summary>Every revocation stream open (before any is set up), in order: when, and whether it was shed.</summary>
    public List<(long Timestamp, bool Shed)> WatchAttempts { get; } = [];

    /// <summary>Sheds the next <paramref name="count"/> revocation stream opens, telling the sidecar to wait <paramref name="retryHint"/>.</summary>
    public void ShedWatches(int count, TimeSpan retryHint)
    {
        lock (_lock)
        {
            _watchesToShed = count;
            _shedRetryHint = retryHint;
        }
    }

    /// <summary>Records a stream open; throws the shed answer while opens are to be shed.</summary>
    public void AdmitWatch()
    {
        lock (_lock)
        {
            var shed = _watchesToShed > 0;
            WatchAttempts.Add((Stopwatch.GetTimestamp(), shed));
            if (!shed)
            {
                return;
            }
            _watchesToShed--;
            throw new RpcException(new Status(StatusCode.Unavailable, "busy with other sidecars connecting"),
                new Metadata { { "retry-after-ms", ((long)_shedRetryHint.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) } });
        }
    }
}
