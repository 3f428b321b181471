using Grpc.Core;
using Grpc.Core.Interceptors;
using Xares.Broker.Storage;

namespace Xares.Broker.Api;

/// <summary>
/// The gRPC twin of <see cref="ProblemMapping"/>: domain exceptions become status codes with a
/// safe message; anything unexpected becomes Internal with no detail.
/// </summary>
internal sealed partial class GrpcExceptionInterceptor(ILogger<GrpcExceptionInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            throw Map(ex, context);
        }
    }

    private RpcException Map(Exception exception, ServerCallContext context)
    {
        var status = exception switch
        {
            NotFoundException e => new Status(StatusCode.NotFound, e.Message),
            ValidationException e => new Status(StatusCode.InvalidArgument, e.Message),
            ConflictException e => new Status(StatusCode.FailedPrecondition, e.Message),
            ForbiddenException e => new Status(StatusCode.PermissionDenied, e.Message),
            StorageUnavailableException => new Status(StatusCode.Unavailable, "The broker's database is unavailable."),
            Audit.Devices.AuditDeviceUnavailableException e => new Status(StatusCode.Unavailable, e.Message),
            _ => new Status(StatusCode.Internal, "An internal error occurred."),
        };
        if (status.StatusCode == StatusCode.Internal)
        {
            LogUnhandled(logger, exception.GetType().Name, context.Method);
        }
        return new RpcException(status);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Unhandled {ExceptionType} in {Method}")]
    private static partial void LogUnhandled(ILogger logger, string exceptionType, string method);
}
