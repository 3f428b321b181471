using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Git;
using Xares.Sidecar.Local;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>
/// Opens the loopback proxies a `run` asks for (OpenProxyRequest), inside the sidecar process: the
/// real key is fetched here per request and never crosses the socket; the peer gets ports and
/// placeholders. Each key is checked before the answer, so a run fails before its tool starts.
/// The proxies live as long as the asking connection (<see cref="LocalReply.HeldUntilClose"/>).
/// </summary>
internal sealed class ProxyOpener(AiCredentialService ai, HttpClient upstream, ILogger<ProxyOpener> logger)
{
    /// <summary>Each open proxy holds one of the socket's connection slots; git helpers keep the rest.</summary>
    public const int MaxOpenProxies = 16;
    private const int MaxTargets = 8;
    private int _open;

    public int OpenCount => Volatile.Read(ref _open);

    public async Task<LocalReply> OpenAsync(OpenProxyRequest request, PeerCredentials peer, CancellationToken cancellationToken)
    {
        if (request.Targets.Count is 0 or > MaxTargets)
        {
            return Refuse(peer, Errors.BadRequest($"a proxy request names 1 to {MaxTargets} providers"));
        }
        var providers = new List<(AiProvider Provider, string CredentialId)>();
        foreach (var target in request.Targets)
        {
            if (ToolCatalogue.FindProvider(target.Provider) is not { } provider)
            {
                return Refuse(peer, Errors.BadRequest($"unknown AI provider {target.Provider}"));
            }
            if (providers.Any(p => p.Provider.Id == provider.Id))
            {
                return Refuse(peer, Errors.BadRequest($"provider {provider.Id} is named twice"));
            }
            providers.Add((provider, target.CredentialId));
        }
        if (Interlocked.Increment(ref _open) > MaxOpenProxies)
        {
            Interlocked.Decrement(ref _open);
            return Refuse(peer, Errors.BadRequest($"{MaxOpenProxies} runs already have a proxy open; end one first"));
        }
        var opened = false;
        try
        {
            var routes = new List<ProxyRoute>();
            foreach (var (provider, credentialId) in providers)
            {
                var answer = await ai.LeaseAsync(provider.Id, credentialId, AiCredentialService.ProxyMode, cancellationToken);
                if (Unavailable(provider, answer) is { } refusal)
                {
                    return Refuse(peer, refusal);
                }
                // Pinned to the credential checked now, so the run keeps the key it was opened with.
                var chosen = answer.AiKey.CredentialId;
                routes.Add(new ProxyRoute(provider, chosen, token => KeyAsync(provider.Id, chosen, token)));
            }
            var usage = new UsageReporter(ReportUsageAsync);
            var proxy = await AiProxy.StartAsync(routes, new ProxyForwarder(upstream, usage), usage);
            var id = "proxy_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            SidecarLog.ProxyOpened(logger, id, peer.Pid, request.Tool.Length > 0 ? request.Tool : "-",
                string.Join(", ", routes.Select(r => $"{r.Provider.Id} on port {r.Port}")));
            var response = new OpenProxyResponse();
            response.Endpoints.AddRange(routes.Select(r => new ProxyEndpoint
            {
                Provider = r.Provider.Id,
                CredentialId = r.CredentialId,
                Port = r.Port,
                Placeholder = r.Placeholder,
                LocalBaseUrl = r.LocalBaseUrl,
            }));
            opened = true;
            return new LocalReply(new SidecarResponse { OpenProxy = response }, new OpenProxy(this, proxy, id, logger));
        }
        finally
        {
            if (!opened)
            {
                Interlocked.Decrement(ref _open);
            }
        }
    }

    private static SidecarResponse? Unavailable(AiProvider provider, SidecarResponse answer)
    {
        if (answer.ResponseCase != SidecarResponse.ResponseOneofCase.AiKey)
        {
            return answer;
        }
        var key = answer.AiKey;
        if (key.Found)
        {
            return null;
        }
        return key.LimitReached
            ? Errors.LimitReached(
                $"the {provider.Id} credential {key.CredentialId} has reached its monthly limit{(key.MonthlyLimit > 0 ? $" of {key.MonthlyLimit} requests" : "")}")
            : Errors.NoCredential($"no {provider.Id} credential is available to this workspace");
    }

    /// <summary>
    /// The current key for one request, with one granted request taken from the lease's allowance
    /// (<see cref="RequestBudget"/>): no allowance, no key, so nothing is forwarded uncounted.
    /// </summary>
    private async Task<AiKeyResponse> KeyAsync(string provider, string credentialId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var answer = await ai.LeaseAsync(provider, credentialId, AiCredentialService.ProxyMode, cancellationToken);
            if (answer.ResponseCase != SidecarResponse.ResponseOneofCase.AiKey)
            {
                throw new SidecarException($"{answer.Error.Message} ({answer.Error.Code})");
            }
            var key = answer.AiKey;
            if (!key.Found)
            {
                return key;
            }
            var take = await ai.Budget.TakeAsync(key.LeaseId, cancellationToken);
            switch (take.Result)
            {
                case TakeResult.Taken:
                    return key;
                case TakeResult.LimitReached:
                    return new AiKeyResponse
                    {
                        Found = false, LimitReached = true, Provider = provider, CredentialId = key.CredentialId, MonthlyLimit = take.MonthlyLimit,
                    };
                case TakeResult.LeaseEnded:
                    // Revoked or expired at the broker: the next lease comes with a first block of its own.
                    ai.DropLease(key.LeaseId);
                    continue;
                default:
                    throw new SidecarException(take.Message);
            }
        }
        throw new SidecarException("the key's lease ended twice while it was being used; try again");
    }

    private async Task<bool> ReportUsageAsync(AiUsageRequest usage, CancellationToken cancellationToken)
    {
        var answer = await ai.UsageAsync(usage, cancellationToken);
        return answer.ResponseCase == SidecarResponse.ResponseOneofCase.AiUsage
            ? answer.AiUsage.LimitReached
            : throw new SidecarException($"{answer.Error.Message} ({answer.Error.Code})");
    }

    private SidecarResponse Refuse(PeerCredentials peer, SidecarResponse refusal)
    {
        SidecarLog.ProxyRefused(logger, peer.Pid, refusal.Error.Message);
        return refusal;
    }

    private async Task ClosedAsync()
    {
        if (Interlocked.Decrement(ref _open) == 0)
        {
            // Every closed proxy's usage is drained: what is left was granted and not used.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await ai.Budget.ReturnAllAsync(deadline.Token);
        }
    }

    /// <summary>One run's proxies; closed with the connection that opened them.</summary>
    private sealed class OpenProxy(ProxyOpener opener, AiProxy proxy, string id, ILogger logger) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await proxy.DisposeAsync();
            }
            finally
            {
                SidecarLog.ProxyClosed(logger, id);
                await opener.ClosedAsync();
            }
        }
    }
}
