using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Xares.Protos.Broker.V1;

namespace Xares.Bench.FleetLoad.Sidecars;

internal sealed partial class SimulatedSidecar
{
    /// <summary>
    /// Rotates the session token at 60 % of its lifetime, as the real sidecar's SessionRefresher: a
    /// refresh that got no answer is retried with the same retry key (the broker may have committed
    /// it), with backoff.
    /// </summary>
    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff();
        byte[]? retryKey = null;
        Exception? failure = null;
        while (!cancellationToken.IsCancellationRequested && Ended is null)
        {
            var due = _tokenIssuedAt + ((_tokenExpiresAt - _tokenIssuedAt) * 0.6);
            var wait = retryKey is null ? due - DateTimeOffset.UtcNow : backoff.Next(failure);
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (cancellationToken.IsCancellationRequested || Ended is not null)
            {
                return;
            }
            retryKey ??= RandomNumberGenerator.GetBytes(16);
            await _tokenGate.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            try
            {
                _refreshUnsettled = true;
                var grant = await Client.RefreshSessionAsync(new RefreshSessionRequest { RetryKey = ByteString.CopyFrom(retryKey) },
                    _auth, DateTime.UtcNow + CallTimeout, cancellationToken);
                Apply(grant);
                _refreshUnsettled = false;
                Refreshes++;
                retryKey = null;
                backoff.Reset();
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
            {
                Ended = $"the broker refused to refresh the session ({ex.StatusCode})";
            }
            catch (RpcException ex)
            {
                failure = ex;
                LastError = $"refresh: {ex.StatusCode}: {ex.Status.Detail}";
            }
            finally
            {
                _tokenGate.Release();
            }
        }
    }

    private void Apply(SessionGrant grant)
    {
        _tokenIssuedAt = DateTimeOffset.UtcNow;
        _tokenExpiresAt = grant.TokenExpiresAt.ToDateTimeOffset();
        _auth = new Metadata { { "authorization", $"Bearer {grant.SessionToken}" } };
    }
}
