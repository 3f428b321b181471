using System.Globalization;
using Grpc.Core;

namespace Xares.Bench.FleetLoad.Sidecars;

/// <summary>
/// Capped exponential backoff with full jitter (a uniform wait between 0 and the cap), from 100 ms
/// up to 5 s as the real sidecar's revocation watcher, so ten thousand simulated sidecars do not
/// reconnect in lockstep after a broker restart. A broker that sheds a connection attempt with
/// Unavailable and a retry hint (the standard `grpc-retry-pushback-ms` trailer) is waited for at
/// least that long.
/// </summary>
internal sealed class ReconnectBackoff
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Maximum = TimeSpan.FromSeconds(5);
    private int _attempt;

    public TimeSpan Next(Exception? failure)
    {
        var exponent = Math.Min(_attempt++, 20);
        var ceiling = Math.Min(Maximum.TotalMilliseconds, Initial.TotalMilliseconds * Math.Pow(2, exponent));
        var wait = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
        return RetryHint(failure) is { } hint && hint > wait ? hint : wait;
    }

    public void Reset() => _attempt = 0;

    public static TimeSpan? RetryHint(Exception? failure)
    {
        if (failure is not RpcException { StatusCode: StatusCode.Unavailable or StatusCode.ResourceExhausted } rpc)
        {
            return null;
        }
        var value = rpc.Trailers.GetValue("grpc-retry-pushback-ms");
        return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms >= 0 ? TimeSpan.FromMilliseconds(ms) : null;
    }
}
