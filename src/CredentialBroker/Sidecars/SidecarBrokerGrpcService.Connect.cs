using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xares.Broker.Api;
using Xares.Broker.Connections;
using Xares.Broker.Minted;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Sidecars;

/// <summary>`xares-sidecar connect`: device grants for the workspace's owner, started and watched through the session.</summary>
internal sealed partial class SidecarBrokerGrpcService
{
    public override async Task<ConnectStart> StartConnect(StartConnectRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        if (string.IsNullOrWhiteSpace(request.Provider) || request.Provider.Length > 100)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Name the OAuth provider to connect to."));
        }
        try
        {
            var connection = await connectLifecycle.StartAsync(session.UserId, request.Provider.Trim(), session.WorkspaceId, "sidecar", Remote(context),
                context.CancellationToken);
            return new ConnectStart
            {
                ConnectionId = connection.Id,
                ProviderName = request.Provider.Trim(),
                VerificationUri = connection.VerificationUri ?? "",
                VerificationUriComplete = connection.VerificationUriComplete ?? "",
                UserCode = connection.UserCode ?? "",
                ExpiresAt = Timestamp.FromDateTimeOffset(connection.DeviceExpiresAt!.Value),
                IntervalSeconds = (int)Math.Ceiling(connection.PollInterval.TotalSeconds),
            };
        }
        catch (NotFoundException ex)
        {
            throw new RpcException(new Status(StatusCode.NotFound, ex.Message));
        }
        catch (ValidationException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (UpstreamFailedException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
    }

    public override async Task<ConnectStatusReply> GetConnectStatus(ConnectStatusRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        var connection = await database.ReadAsync(c => ConnectionStore.Find(c, null, request.ConnectionId));
        if (connection is null || connection.UserId != session.UserId)
        {
            // A superseded pending connection is deleted when a newer one of the same provider activates.
            throw new RpcException(new Status(StatusCode.NotFound, "The connection was not found (disconnected, or replaced by a newer one)."));
        }
        return new ConnectStatusReply { Status = connection.Status, Message = connection.LastError ?? "" };
    }
}
