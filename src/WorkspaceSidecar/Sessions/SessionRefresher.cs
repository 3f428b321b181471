using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Xares.Protos.Broker.V1;
using Xares.Sidecar.Broker;

namespace Xares.Sidecar.Sessions;

/// <summary>
/// Rotates the session token at ~60% of its lifetime, long before it expires. A refresh that got no
/// answer is retried soon with the same retry key (the broker may have committed it, e.g. a replica
/// died before replying); until then calls fail fast, as while the broker is unreachable (cached
/// leases are still served), rather than present a token the broker may have superseded.
/// </summary>
internal sealed class SessionRefresher(
    BrokerSession session,
    SidecarBroker.SidecarBrokerClient client,
    TokenRotationGate gate,
    BrokerLink link,
    TimeProvider time,
    ILogger logger)
{
    private const double RefreshAtFraction = 0.6;
    private static readonly TimeSpan RefreshTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MinimumDelay = TimeSpan.FromMilliseconds(100);

    public async Task RunAsync(SessionScope scope)
    {
        var cancellationToken = scope.Lifetime;
        var retry = new Backoff(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30));
        TimeSpan? retryDelay = null; // set while refreshes fail
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(retryDelay ?? NextRefreshDelay(scope.Snapshot, time.GetUtcNow()), time, cancellationToken);
                if (scope.Snapshot.SessionExpiresAt is { } end && time.GetUtcNow() >= end)
                {
                    session.End(scope, "the session reached its maximum lifetime; a new bootstrap is needed");
                    return;
                }
                try
                {
                    using (await gate.EnterRotationAsync(cancellationToken))
                    {
                        var retryKey = scope.BeginRefresh();
                        var grant = await client.RefreshSessionAsync(
                            new RefreshSessionRequest { RetryKey = ByteString.CopyFrom(retryKey) },
                            new CallOptions(BrokerSession.Bearer(scope.Token), DateTime.UtcNow + RefreshTimeout, cancellationToken));
                        scope.Apply(grant, time.GetUtcNow());
                    }
                    retryDelay = null;
                    retry.Reset();
                    SidecarLog.SessionRefreshed(logger, scope.Snapshot.SessionId, scope.Snapshot.TokenExpiresAt);
                }
                catch (RpcException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (RpcException ex) when (RpcFailures.EndsSession(ex))
                {
                    session.End(scope, $"the broker refused to refresh the session ({RpcFailures.Describe(ex)}); a new bootstrap is needed");
                    return;
                }
                catch (RpcException ex)
                {
                    retryDelay = retry.Next(RpcFailures.RetryHint(ex));
                    var description = RpcFailures.Describe(ex);
                    link.RecordError($"session refresh failed: {description}");
                    SidecarLog.SessionRefreshFailed(logger, scope.Snapshot.SessionId, description);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    internal static TimeSpan NextRefreshDelay(SessionSnapshot snapshot, DateTimeOffset now)
    {
        var lifetime = snapshot.TokenExpiresAt - snapshot.TokenIssuedAt;
        var due = snapshot.TokenIssuedAt + (lifetime * RefreshAtFraction);
        if (snapshot.SessionExpiresAt is { } end && end < due)
        {
            due = end;
        }
        var delay = due - now;
        return delay < MinimumDelay ? MinimumDelay : delay;
    }
}
