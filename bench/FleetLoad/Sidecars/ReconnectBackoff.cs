using System.Globalization;
using Grpc.Core;

namespace Xares.Bench.FleetLoad.Sidecars;

/// <summary>
/// Capped exponential backoff with full jitter, as the real sidecar's revocation watcher: attempt
/// n waits a uniform draw from [100 ms, min(5 s, 100 ms·2^n)], so ten thousand simulated sidecars
/// that lost the same broker do not come back in lockstep. A broker that shed the attempt
/// (Unavailable or ResourceExhausted with a `retry-after-ms` trailer) is waited for that long plus
/// the jittered backoff.
/// </summary>
internal sealed class ReconnectBackoff
{
    public const string RetryAfterTrailer = "retry-after-ms";
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Maximum = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LongestHint = TimeSpan.FromSeconds(60);
    private int _attempt;

    /// <summary>Attempts refused with a retry hint since the run started (all sidecars).</summary>
    public static int HintsHonoured => _hints;

    private static int _hints;

    public TimeSpan Next(Exception? failure)
    {
        var ceiling = Math.Min(Maximum.TotalMilliseconds, Initial.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30)));
        _attempt = Math.Min(_attempt + 1, 30);
        var wait = TimeSpan.FromMilliseconds(Initial.TotalMilliseconds + (Random.Shared.NextDouble() * (ceiling - Initial.TotalMilliseconds)));
        if (RetryHint(failure) is not { } hint)
        {
            return wait;
        }
        Interlocked.Increment(ref _hints);
        return hint + wait;
    }

    public void Reset() => _attempt = 0;

    private static TimeSpan? RetryHint(Exception? failure) =>
        failure is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.ResourceExhausted } rpc
            && rpc.Trailers.GetValue(RetryAfterTrailer) is { } text
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(Math.Min(ms, LongestHint.TotalMilliseconds))
            : null;
}
