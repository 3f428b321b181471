using System.Threading.RateLimiting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Xares.Broker.Hosting;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// Spends one token of the caller's bucket per gRPC call (a stream counts once, when it opens):
/// its session's bucket once the token is known to be genuine, else its address's (see
/// <see cref="SessionCallLimiter"/>). An empty bucket answers ResourceExhausted before any work is done; the sidecar treats
/// that like an unreachable broker: a miss that fails fast, cached leases still served.
/// </summary>
internal sealed class SessionRateLimitInterceptor(SessionCallLimiter limiter) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using (Admit(context))
        {
            var response = await continuation(request, context);
            if (response is SessionGrant grant)
            {
                limiter.Learn(grant.SessionToken, grant.SessionId, grant.TokenExpiresAt.ToDateTimeOffset());
            }
            return response;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using (Admit(context))
        {
            await continuation(request, responseStream, context);
        }
    }

    private RateLimitLease Admit(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var lease = limiter.Acquire(SessionToken(context), ClientPartition.Of(http.Connection.RemoteIpAddress));
        if (lease.IsAcquired)
        {
            return lease;
        }
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        lease.Dispose();
        BrokerMetrics.RateLimited.WithLabels("grpc").Inc();
        var milliseconds = Math.Max(1, (int)Math.Ceiling(wait.TotalMilliseconds));
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"This session is calling the broker too often (limit {limiter.Describe}); retry in {milliseconds} ms."),
            new Metadata { { ConnectionAdmissionInterceptor.RetryAfterTrailer, milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
    }

    private static string? SessionToken(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        const string bearer = "Bearer ";
        return header is not null && header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? header[bearer.Length..].Trim() : null;
    }
}
