using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Ai;
using Xares.Sidecar.Ai.Proxy;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Git;
using Xares.Sidecar.Leases;
using Xares.Sidecar.Sessions;

namespace Xares.Sidecar.Local;

/// <summary>Routes one local request to what answers it.</summary>
internal sealed class LocalRequestHandler(
    Func<Uri> currentBroker,
    BrokerSession session,
    GitCredentialService git,
    AiCredentialService ai,
    ProxyOpener proxies,
    Connect.ConnectService connect,
    LeaseCache cache,
    BrokerLink link,
    PeerPolicy policy,
    ILogger<LocalRequestHandler> logger)
{
    public const string BootstrapTokenPrefix = "xbt_";

    public async Task<LocalReply> HandleAsync(SidecarRequest request, PeerCredentials peer, CancellationToken cancellationToken)
    {
        try
        {
            if (request.RequestCase == SidecarRequest.RequestOneofCase.OpenProxy)
            {
                return await proxies.OpenAsync(request.OpenProxy, peer, cancellationToken);
            }
            return request.RequestCase switch
            {
                SidecarRequest.RequestOneofCase.GitGet => await git.GetAsync(request.GitGet, cancellationToken),
                SidecarRequest.RequestOneofCase.GitErase => await git.EraseAsync(request.GitErase, cancellationToken),
                SidecarRequest.RequestOneofCase.GitForeignHelper => await git.ForeignHelperAsync(request.GitForeignHelper, cancellationToken),
                SidecarRequest.RequestOneofCase.GitTargets => await git.TargetsAsync(cancellationToken),
                SidecarRequest.RequestOneofCase.AiCredentials => await ai.ListAsync(cancellationToken),
                SidecarRequest.RequestOneofCase.AiKey => await ai.KeyAsync(request.AiKey, cancellationToken),
                // Usage is counted by the sidecar's own proxies, not reported by peers.
                SidecarRequest.RequestOneofCase.AiUsage => Errors.BadRequest("usage is counted by the sidecar's proxies; peers do not report it"),
                SidecarRequest.RequestOneofCase.Status => new SidecarResponse { Status = Status() },
                SidecarRequest.RequestOneofCase.Bootstrap => await BootstrapAsync(request.Bootstrap, peer, cancellationToken),
                SidecarRequest.RequestOneofCase.Connect => await connect.StartAsync(request.Connect, cancellationToken),
                SidecarRequest.RequestOneofCase.ConnectStatus => await connect.StatusAsync(request.ConnectStatus, cancellationToken),
                _ => Errors.BadRequest("unknown request"),
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SidecarLog.RequestFailed(logger, request.RequestCase.ToString(), ex);
            return Errors.Internal("the sidecar failed to handle the request; see its log");
        }
    }

    public StatusResponse Status()
    {
        var scope = session.Current;
        var status = new StatusResponse
        {
            BrokerUrl = currentBroker().ToString(),
            Connected = scope is not null && link.State == LinkState.Connected,
            HasSession = scope is not null,
            CachedLeases = cache.Count,
            LastError = link.LastError ?? "",
        };
        if (scope is not null)
        {
            var snapshot = scope.Snapshot;
            status.WorkspaceId = snapshot.WorkspaceId;
            status.TokenExpiresAt = Timestamp.FromDateTimeOffset(snapshot.TokenExpiresAt);
            if (snapshot.SessionExpiresAt is { } end)
            {
                status.SessionExpiresAt = Timestamp.FromDateTimeOffset(end);
            }
            status.RevocationSequence = scope.RevocationSequence;
        }
        return status;
    }

    private async Task<SidecarResponse> BootstrapAsync(BootstrapRequest request, PeerCredentials peer, CancellationToken cancellationToken)
    {
        if (!policy.MayBootstrap(peer))
        {
            SidecarLog.BootstrapPeerRefused(logger, peer.Pid, peer.Uid);
            return Errors.BadRequest($"uid {peer.Uid} may not bootstrap this sidecar");
        }
        var token = request.BootstrapToken.Trim();
        if (!token.StartsWith(BootstrapTokenPrefix, StringComparison.Ordinal))
        {
            return Errors.BadRequest($"a bootstrap token starts with {BootstrapTokenPrefix}");
        }
        SidecarLog.BootstrapReceived(logger, peer.Pid, peer.Uid);
        var outcome = await session.BootstrapAsync(token, retryWhileUnreachable: false, cancellationToken);
        return new SidecarResponse { Bootstrap = new BootstrapResponse { Accepted = outcome.Accepted, Message = outcome.Message } };
    }
}
