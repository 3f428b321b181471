using Grpc.Core;
using Xares.Protos.Broker.V1;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Git;
using Xares.Sidecar.Sessions;
using LocalConnectStatusRequest = Xares.Protos.Sidecar.V1.ConnectStatusRequest;
using BrokerConnectStatusRequest = Xares.Protos.Broker.V1.ConnectStatusRequest;

namespace Xares.Sidecar.Connect;

/// <summary>
/// `xares-sidecar connect`: asks the broker to start a device grant for the workspace owner and
/// reports its state. Only the verification URL and user code pass through here; the tokens go
/// from the provider to the broker.
/// </summary>
internal sealed class ConnectService(BrokerSession session, BrokerLink link)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public Task<SidecarResponse> StartAsync(ConnectRequest request, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var reply = await session.CallAsync(
                (client, options) => client.StartConnectAsync(new StartConnectRequest { Provider = request.Provider }, options), Deadline, cancellationToken);
            return new SidecarResponse
            {
                Connect = new ConnectResponse
                {
                    ConnectionId = reply.ConnectionId, ProviderName = reply.ProviderName, VerificationUri = reply.VerificationUri,
                    VerificationUriComplete = reply.VerificationUriComplete, UserCode = reply.UserCode,
                    ExpiresAtUnix = reply.ExpiresAt?.ToDateTimeOffset().ToUnixTimeSeconds() ?? 0, IntervalSeconds = reply.IntervalSeconds,
                },
            };
        });

    public Task<SidecarResponse> StatusAsync(LocalConnectStatusRequest request, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var reply = await session.CallAsync(
                (client, options) => client.GetConnectStatusAsync(new BrokerConnectStatusRequest { ConnectionId = request.ConnectionId }, options), Deadline,
                cancellationToken);
            return new SidecarResponse { ConnectStatus = new ConnectStatusResponse { Status = reply.Status, Message = reply.Message } };
        });

    private async Task<SidecarResponse> CallAsync(Func<Task<SidecarResponse>> call)
    {
        try
        {
            return await call();
        }
        catch (NoSessionException)
        {
            return Errors.NotBootstrapped();
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition or StatusCode.InvalidArgument)
        {
            return Errors.BadRequest(ex.Status.Detail);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
        {
            return Errors.NotBootstrapped();
        }
        catch (RpcException ex)
        {
            var description = ex.StatusCode == StatusCode.Unavailable && ex.Status.Detail.StartsWith("OAuth provider", StringComparison.Ordinal)
                ? ex.Status.Detail : RpcFailures.Describe(ex);
            link.RecordError(description);
            return Errors.BrokerUnavailable(description);
        }
    }
}
