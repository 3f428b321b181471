using Grpc.Core;
using Microsoft.Extensions.Logging;
using Xares.Protos.Broker.V1;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Leases;
using Xares.Sidecar.Sessions;

namespace Xares.Sidecar.Revocations;

/// <summary>
/// Keeps the revocation stream open for a session, applies what it carries, and after every
/// (re)connect revalidates the cached leases before they are served again (rule e).
/// </summary>
internal sealed class RevocationWatcher(BrokerSession session, LeaseCache cache, BrokerLink link, TimeProvider time, ILogger<RevocationWatcher> logger)
{
    private static readonly TimeSpan ValidateTimeout = TimeSpan.FromSeconds(5);
    // A request that finds the broker down may cut the backoff short, but not below this spacing.
    private static readonly TimeSpan MinimumAttemptSpacing = TimeSpan.FromMilliseconds(250);

    public async Task RunAsync(SessionScope scope)
    {
        var cancellationToken = scope.Lifetime;
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var attemptStarted = time.GetTimestamp();
                TimeSpan? retryHint = null;
                try
                {
                    using var stream = await OpenAndRevalidateAsync(scope, cancellationToken);
                    backoff.Reset();
                    await foreach (var revocation in stream.ResponseStream.ReadAllAsync(cancellationToken))
                    {
                        if (!Apply(scope, revocation))
                        {
                            return;
                        }
                    }
                    Disconnected("the broker closed the revocation stream");
                }
                catch (RpcException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (NoSessionException)
                {
                    return;
                }
                catch (RpcException ex) when (RpcFailures.EndsSession(ex))
                {
                    session.End(scope, $"the broker ended the session ({RpcFailures.Describe(ex)})");
                    return;
                }
                catch (RpcException ex)
                {
                    // A broker shedding a reconnect storm says how long to stay away.
                    retryHint = RpcFailures.RetryHint(ex);
                    Disconnected(RpcFailures.Describe(ex));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Disconnected(RpcFailures.Describe(ex));
                }
                var earliest = time.GetElapsedTime(attemptStarted) + (retryHint ?? TimeSpan.Zero);
                await WaitBeforeReconnectAsync(backoff.Next(retryHint), Max(earliest, MinimumAttemptSpacing), attemptStarted, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private Task<AsyncServerStreamingCall<RevocationEvent>> OpenAndRevalidateAsync(SessionScope scope, CancellationToken cancellationToken) =>
        // One pass through the token gate: no refresh can rotate the token between opening the
        // stream with it and the validation call. Until the broker answers the validation the
        // link stays Disconnected (cached leases served, as while it was away); the answer
        // drops what was revoked meanwhile before the link counts as connected again.
        session.WithTokenAsync(scope, async (client, headers, token) =>
        {
            var stream = client.WatchRevocations(
                new WatchRevocationsRequest { AfterSequence = scope.RevocationSequence },
                new CallOptions(headers, cancellationToken: token));
            try
            {
                await AdmittedAsync(stream, token);
                var leaseIds = cache.LeaseIds();
                var reply = await client.ValidateLeasesAsync(
                    new ValidateLeasesRequest { LeaseIds = { leaseIds } },
                    new CallOptions(headers, DateTime.UtcNow + ValidateTimeout, token));
                var dropped = cache.RetainValid(leaseIds, reply.ValidLeaseIds.ToHashSet(StringComparer.Ordinal));
                link.MarkConnected();
                SidecarLog.BrokerConnected(logger, scope.Snapshot.WorkspaceId, scope.RevocationSequence, leaseIds.Count, dropped);
                return stream;
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }, cancellationToken);

    /// <summary>
    /// Waits for the stream's response headers, which the broker sends once the stream is set up,
    /// and throws the status of a stream it refused instead (e.g. shed under load): a refused
    /// stream must not count as a connection, or its backoff would restart from the smallest window.
    /// </summary>
    private static async Task AdmittedAsync(AsyncServerStreamingCall<RevocationEvent> stream, CancellationToken cancellationToken)
    {
        await stream.ResponseHeadersAsync.WaitAsync(ValidateTimeout, cancellationToken);
        Status status;
        try
        {
            status = stream.GetStatus();
        }
        catch (InvalidOperationException)
        {
            return; // still running: the stream is open
        }
        throw new RpcException(status, stream.GetTrailers());
    }

    /// <summary>Returns false when the event ends this session.</summary>
    private bool Apply(SessionScope scope, RevocationEvent revocation)
    {
        var snapshot = scope.Snapshot;
        switch (revocation.Kind)
        {
            case RevocationEvent.Types.Kind.Lease:
                SidecarLog.LeaseRevoked(logger, revocation.Sequence, revocation.TargetId, cache.RemoveLease(revocation.TargetId));
                break;
            case RevocationEvent.Types.Kind.Credential:
                SidecarLog.CredentialRevoked(logger, revocation.Sequence, revocation.TargetId, cache.RemoveCredential(revocation.TargetId));
                break;
            // Events for an earlier session of this workspace (a re-bootstrap) must not end this one.
            case RevocationEvent.Types.Kind.Session when revocation.TargetId.Length == 0 || revocation.TargetId == snapshot.SessionId:
                scope.ObserveSequence(revocation.Sequence);
                session.End(scope, $"the broker revoked this session (revocation {revocation.Sequence})");
                return false;
            case RevocationEvent.Types.Kind.Workspace when revocation.TargetId.Length == 0 || revocation.TargetId == snapshot.WorkspaceId:
                scope.ObserveSequence(revocation.Sequence);
                session.End(scope, $"the broker revoked workspace {snapshot.WorkspaceId} (revocation {revocation.Sequence})");
                return false;
            default:
                SidecarLog.RevocationIgnored(logger, revocation.Sequence, revocation.Kind.ToString(), revocation.TargetId);
                break;
        }
        scope.ObserveSequence(revocation.Sequence);
        return true;
    }

    private void Disconnected(string reason)
    {
        link.MarkDisconnected(reason);
        SidecarLog.BrokerDisconnected(logger, reason);
    }

    /// <summary>
    /// Waits <paramref name="delay"/>; a request that found the broker down may cut it short, but
    /// not below <paramref name="earliest"/> after the attempt started (spacing, and a retry hint).
    /// </summary>
    private async Task WaitBeforeReconnectAsync(TimeSpan delay, TimeSpan earliest, long attemptStarted, CancellationToken cancellationToken)
    {
        var requested = link.ReconnectRequested;
        var elapsed = await Task.WhenAny(Task.Delay(delay, time, cancellationToken), requested);
        cancellationToken.ThrowIfCancellationRequested();
        if (elapsed == requested)
        {
            var since = time.GetElapsedTime(attemptStarted);
            if (since < earliest)
            {
                await Task.Delay(earliest - since, time, cancellationToken);
            }
        }
        link.ClearReconnectRequest();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
