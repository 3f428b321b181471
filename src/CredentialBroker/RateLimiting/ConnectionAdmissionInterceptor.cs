using System.Globalization;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// Puts session opens, revocation streams and lease revalidations through
/// <see cref="ConnectionAdmission"/>. A shed call gets Unavailable, which the sidecar retries as
/// it would an unreachable broker, with a <c>retry-after-ms</c> trailer it waits at least.
/// </summary>
internal sealed class ConnectionAdmissionInterceptor(ConnectionAdmission admission) : Interceptor
{
    public const string RetryAfterTrailer = "retry-after-ms";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (ConnectionAdmission.CallLabel(context.Method) is not { } call)
        {
            return await continuation(request, context);
        }
        using (Admit(call))
        {
            return await continuation(request, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (ConnectionAdmission.CallLabel(context.Method) is not { } call)
        {
            await continuation(request, responseStream, context);
            return;
        }
        using var permit = Admit(call);
        // An open stream is no longer setup work: its slot is freed when the response starts
        // (the handler sends headers once the stream is set up), not when the stream ends hours later.
        context.GetHttpContext().Response.OnStarting(() =>
        {
            permit.Dispose();
            return Task.CompletedTask;
        });
        await continuation(request, responseStream, context);
    }

    private IDisposable Admit(string call) =>
        admission.TryAdmit(call, out var retryAfter) ?? throw new RpcException(
            new Status(StatusCode.Unavailable, "The broker is busy with other sidecars connecting; retry later."),
            new Metadata { { RetryAfterTrailer, ((long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) } });
}
