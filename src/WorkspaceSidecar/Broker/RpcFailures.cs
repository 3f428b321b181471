using Grpc.Core;

namespace Xares.Sidecar.Broker;

internal static class RpcFailures
{
    /// <summary>The broker did not answer (down, unreachable, too slow) rather than answering no.</summary>
    public static bool IsTransient(RpcException ex) => ex.StatusCode is
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled or
        StatusCode.Aborted or StatusCode.ResourceExhausted or StatusCode.Internal or StatusCode.Unknown;

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
