using System.Globalization;
using Grpc.Core;

namespace Xares.Sidecar.Broker;

internal static class RpcFailures
{
    /// <summary>The broker did not answer (down, unreachable, too slow) rather than answering no.</summary>
    public static bool IsTransient(RpcException ex) => ex.StatusCode is
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled or
        StatusCode.Aborted or StatusCode.ResourceExhausted or StatusCode.Internal or StatusCode.Unknown;

    /// <summary>The trailer in which a broker shedding load says how long to wait before trying again.</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    // A hint is the broker's estimate, not an order to go silent: a broken or hostile value is capped.
    private static readonly TimeSpan LongestRetryHint = TimeSpan.FromSeconds(60);

    /// <summary>How long the broker asked us to wait (it shed the call under load), or null when it did not say.</summary>
    public static TimeSpan? RetryHint(RpcException ex) =>
        ex.Trailers.GetValue(RetryAfterTrailer) is { } text
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds > 0
            ? TimeSpan.FromMilliseconds(Math.Min(milliseconds, LongestRetryHint.TotalMilliseconds))
            : null;

    /// <summary>The broker says this session no longer exists.</summary>
    public static bool EndsSession(RpcException ex) => ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied;

    /// <summary>A short description for logs and status; gRPC details never carry secrets (invariant 2).</summary>
    public static string Describe(Exception ex) => ex switch
    {
        RpcException rpc when rpc.StatusCode == StatusCode.Unavailable && rpc.Status.DebugException is { } inner =>
            $"broker unavailable: {inner.Message}",
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => ex.Message,
    };
}
