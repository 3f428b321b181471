using Grpc.Core;
using Microsoft.Extensions.Logging;
using Xares.Protos.Broker.V1;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Ai.Proxy;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Git;
using Xares.Sidecar.Leases;
using Xares.Sidecar.Sessions;

namespace Xares.Sidecar.Ai;

/// <summary>
/// Answers `xares-sidecar run|env` and the sidecar's own proxies: which AI credentials the owner
/// has, the current key of one (from the lease cache, or the broker on a miss), and usage reports.
/// A proxy-mode key is handed only to the proxies in this process (<see cref="LeaseAsync"/>), never
/// to a socket peer (invariant k).
/// </summary>
internal sealed class AiCredentialService(BrokerSession session, LeaseCache cache, BrokerLink link, TimeProvider time, ILogger<AiCredentialService> logger)
{
    public const string InjectMode = "inject";
    public const string ProxyMode = "proxy";
    // The proxy asks per request and the tool waits on it: fail fast when the broker is away.
    private static readonly TimeSpan BrokerDeadline = TimeSpan.FromSeconds(3);
    private RequestBudget? _budget;

    /// <summary>The proxies' request allowance per proxy-mode lease, granted (and counted) by the broker.</summary>
    internal RequestBudget Budget => LazyInitializer.EnsureInitialized(ref _budget, () => new RequestBudget(DrawAsync, ReturnAsync, time));

    public async Task<SidecarResponse> ListAsync(CancellationToken cancellationToken)
    {
        if (session.Current is null)
        {
            return Errors.NotBootstrapped();
        }
        return await CallBrokerAsync("ListAiCredentials", async token =>
        {
            var reply = await session.CallAsync(
                (client, options) => client.ListAiCredentialsAsync(new ListAiCredentialsRequest(), options), BrokerDeadline, token);
            var response = new AiCredentialsResponse();
            response.Credentials.AddRange(reply.Credentials.Select(c => new AiCredential
            {
                CredentialId = c.CredentialId,
                Provider = c.Provider,
                Name = c.Name,
                BaseUrl = c.BaseUrl,
                LimitReached = c.LimitReached,
                ProxyOnly = c.ProxyOnly,
            }));
            response.ExcludedByPolicy.AddRange(reply.ExcludedByPolicy.Select(e => new ExcludedAiCredential
            {
                CredentialId = e.CredentialId,
                Provider = e.Provider,
                Host = e.Host,
            }));
            return new SidecarResponse { AiCredentials = response };
        }, cancellationToken);
    }

    /// <summary>A socket peer's AiKey request: inject mode only (the broker still refuses proxy-only credentials).</summary>
    public async Task<SidecarResponse> KeyAsync(AiKeyRequest request, CancellationToken cancellationToken)
    {
        if (request.Mode == ProxyMode)
        {
            return Errors.BadRequest("a proxy-mode key never leaves the sidecar: ask it to open a proxy (xares-sidecar run does)");
        }
        if (request.Mode != InjectMode)
        {
            return Errors.BadRequest($"an AI key request names a provider and the mode {InjectMode}");
        }
        return await LeaseAsync(request.Provider, request.CredentialId, request.Mode, cancellationToken);
    }

    /// <summary>The current key, with its secret: for this process only (the proxies, and <see cref="KeyAsync"/> in inject mode).</summary>
    internal async Task<SidecarResponse> LeaseAsync(string provider, string credentialId, string mode, CancellationToken cancellationToken)
    {
        var request = new AiKeyRequest { Provider = provider, CredentialId = credentialId, Mode = mode };
        if (request.Provider.Length == 0 || request.Mode is not (InjectMode or ProxyMode))
        {
            return Errors.BadRequest($"an AI key request names a provider and a mode ({InjectMode} or {ProxyMode})");
        }
        if (session.Current is null)
        {
            return Errors.NotBootstrapped();
        }
        var key = LeaseKey.ForAi(request.Provider, request.CredentialId, request.Mode);
        if (cache.Find(key) is { } cached)
        {
            SidecarLog.LeaseServedFromCache(logger, cached.LeaseId);
            return Found(key.Host, cached);
        }
        if (link.State == LinkState.Disconnected)
        {
            link.RequestReconnect();
            return Errors.BrokerUnavailable(link.LastError);
        }
        return await CallBrokerAsync("GetAiCredential", async token =>
        {
            // A second try only when a revocation overtook the lease we were being issued.
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var revision = cache.Revision;
                var reply = await session.CallAsync(
                    (client, options) => client.GetAiCredentialAsync(
                        new AiCredentialRequest { Provider = key.Host, CredentialId = request.CredentialId, Mode = request.Mode }, options),
                    BrokerDeadline,
                    token);
                switch (reply.ResultCase)
                {
                    case AiCredentialReply.ResultOneofCase.Lease:
                        var lease = FromBroker(reply.Lease);
                        // Counted by the broker already; given back when the last proxy closes, even if this lease is not served.
                        Budget.Credit(lease.LeaseId, reply.Lease.GrantedRequests);
                        var admission = cache.Admit(key, lease, revision);
                        SidecarLog.LeaseIssued(logger, lease.LeaseId, lease.CredentialId, lease.ExpiresAt, admission.ToString());
                        if (admission == Admission.Cached && request.CredentialId.Length == 0)
                        {
                            // Also under its credential: a proxy pins the credential it was opened with and asks by id,
                            // and a second lease would be granted (and charged) a first block of its own.
                            cache.Admit(LeaseKey.ForAi(key.Host, lease.CredentialId, request.Mode), lease, revision);
                        }
                        if (admission != Admission.Refused)
                        {
                            return Found(reply.Lease.Provider.Length > 0 ? reply.Lease.Provider : key.Host, lease);
                        }
                        break;
                    case AiCredentialReply.ResultOneofCase.LimitReached:
                        SidecarLog.AiLimitReached(logger, reply.LimitReached.CredentialId, reply.LimitReached.MonthlyLimit);
                        return new SidecarResponse
                        {
                            AiKey = new AiKeyResponse
                            {
                                Found = false, LimitReached = true, Provider = key.Host, CredentialId = reply.LimitReached.CredentialId,
                                MonthlyLimit = reply.LimitReached.MonthlyLimit,
                            },
                        };
                    case AiCredentialReply.ResultOneofCase.ExcludedByPolicy:
                        SidecarLog.NoMatch(logger, "ai", key.Host);
                        return new SidecarResponse
                        {
                            AiKey = new AiKeyResponse
                            {
                                Found = false, Provider = key.Host, CredentialId = reply.ExcludedByPolicy.CredentialId, ExcludedHost = reply.ExcludedByPolicy.Host,
                            },
                        };
                    case AiCredentialReply.ResultOneofCase.ProxyOnly:
                        SidecarLog.AiProxyOnly(logger, reply.ProxyOnly.CredentialId);
                        return Errors.ProxyOnly(
                            $"the {key.Host} credential {reply.ProxyOnly.CredentialId} is proxy-only: its key never enters a workspace process; use `xares-sidecar run` in proxy mode (the default)");
                    default:
                        SidecarLog.NoMatch(logger, "ai", key.Host);
                        return new SidecarResponse { AiKey = new AiKeyResponse { Found = false, Provider = key.Host } };
                }
            }
            return Errors.Internal("the key was revoked while it was being issued; try again");
        }, cancellationToken);
    }

    /// <summary>Forwards what the proxy counted (tokens; requests for attribution: they were counted when granted).</summary>
    public async Task<SidecarResponse> UsageAsync(AiUsageRequest request, CancellationToken cancellationToken)
    {
        if (request.LeaseId.Length == 0 || request.Requests < 0 || request.InputTokens < 0 || request.OutputTokens < 0)
        {
            return Errors.BadRequest("a usage report names a lease and counts that are not negative");
        }
        return await CallBrokerAsync("ReportAiUsage", async token =>
        {
            var reply = await session.CallAsync(
                (client, options) => client.ReportAiUsageAsync(new ReportAiUsageRequest
                {
                    LeaseId = request.LeaseId,
                    Requests = request.Requests,
                    InputTokens = request.InputTokens,
                    OutputTokens = request.OutputTokens,
                }, options),
                BrokerDeadline,
                token);
            // A reached limit keeps the lease: the allowance it was granted is counted already and may be used.
            return new SidecarResponse { AiUsage = new AiUsageResponse { LimitReached = reply.LimitReached } };
        }, cancellationToken);
    }

    /// <summary>The next block of requests for a proxy-mode lease (DrawAiRequests); a failure is a <see cref="SidecarException"/>.</summary>
    internal Task<DrawAiRequestsReply> DrawAsync(string leaseId, long requests, CancellationToken cancellationToken) =>
        GrantCallAsync("DrawAiRequests", token => session.CallAsync(
            (client, options) => client.DrawAiRequestsAsync(new DrawAiRequestsRequest { LeaseId = leaseId, Requests = requests }, options),
            BrokerDeadline, token), cancellationToken);

    /// <summary>Gives unused allowance of a lease back (ReportAiUsage with returned_requests).</summary>
    internal Task ReturnAsync(string leaseId, long unused, CancellationToken cancellationToken) =>
        GrantCallAsync("ReportAiUsage", token => session.CallAsync(
            (client, options) => client.ReportAiUsageAsync(new ReportAiUsageRequest { LeaseId = leaseId, ReturnedRequests = unused }, options),
            BrokerDeadline, token), cancellationToken);

    /// <summary>A lease the broker says has ended: no request is served with it again.</summary>
    internal void DropLease(string leaseId) => cache.RemoveLease(leaseId);

    private async Task<T> GrantCallAsync<T>(string method, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (NoSessionException)
        {
            throw new SidecarException("the sidecar has no broker session");
        }
        catch (RpcException ex)
        {
            var description = RpcFailures.Describe(ex);
            if (RpcFailures.IsTransient(ex))
            {
                link.RecordError(description);
            }
            SidecarLog.BrokerCallFailed(logger, method, description);
            throw new SidecarException($"the broker did not grant requests: {description}");
        }
    }

    private async Task<SidecarResponse> CallBrokerAsync(string method, Func<CancellationToken, Task<SidecarResponse>> call, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(BrokerDeadline);
        try
        {
            return await call(budget.Token);
        }
        catch (NoSessionException)
        {
            return Errors.NotBootstrapped();
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Unauthenticated && (RpcFailures.IsTransient(ex) || budget.IsCancellationRequested))
        {
            var description = RpcFailures.Describe(ex);
            link.RecordError(description);
            SidecarLog.BrokerCallFailed(logger, method, description);
            return Errors.BrokerUnavailable(description);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Errors.BrokerUnavailable("the broker did not answer in time");
        }
        catch (RpcException ex)
        {
            var description = RpcFailures.Describe(ex);
            SidecarLog.BrokerCallFailed(logger, method, description);
            return ex.StatusCode == StatusCode.Unauthenticated
                ? Errors.NotBootstrapped()
                : Errors.Internal($"the broker refused the request: {description}");
        }
    }

    private static SidecarResponse Found(string provider, CachedLease lease) => new()
    {
        AiKey = new AiKeyResponse
        {
            Found = true,
            CredentialId = lease.CredentialId,
            Provider = provider,
            Secret = lease.Secret,
            BaseUrl = lease.BaseUrl,
            ExpiresAtUnix = lease.ExpiresAt.ToUnixTimeSeconds(),
            LeaseId = lease.LeaseId,
        },
    };

    private CachedLease FromBroker(AiLease lease) => new(
        lease.LeaseId,
        lease.CredentialId,
        Username: "",
        lease.Secret,
        lease.ExpiresAt?.ToDateTimeOffset() ?? time.GetUtcNow(),
        lease.SecretVersion,
        time.GetUtcNow(),
        lease.BaseUrl);
}
