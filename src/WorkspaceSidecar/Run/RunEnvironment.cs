using Xares.Protos.Sidecar.V1;

namespace Xares.Sidecar.Run;

/// <summary>The variables a run sets for its tool, and the secrets among them (for masking).</summary>
internal sealed class RunEnvironment
{
    public Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

    public List<string> Secrets { get; } = [];

    /// <summary>Inject mode (and `env`): the real key, and the base URL when the credential names a non-default one.</summary>
    public static async Task<RunEnvironment> InjectAsync(IReadOnlyList<ProviderPlan> plans, SidecarAiClient sidecar, CancellationToken cancellationToken)
    {
        var environment = new RunEnvironment();
        foreach (var plan in plans)
        {
            var key = await sidecar.RequireKeyAsync(plan.Provider.Id, plan.Credential.CredentialId, Ai.AiCredentialService.InjectMode, cancellationToken);
            environment.Secrets.Add(key.Secret);
            foreach (var name in plan.Variables.KeyVariables)
            {
                environment.Variables.TryAdd(name, key.Secret);
            }
            if (!plan.Provider.IsDefault(key.BaseUrl))
            {
                foreach (var name in plan.Variables.BaseUrlVariables)
                {
                    environment.Variables.TryAdd(name, key.BaseUrl);
                }
            }
        }
        return environment;
    }

    /// <summary>Proxy mode: the placeholder and the proxy's base URL; no real key.</summary>
    public static RunEnvironment ForProxy(IReadOnlyList<ProviderPlan> plans, IReadOnlyList<ProxyEndpoint> endpoints)
    {
        var environment = new RunEnvironment();
        foreach (var plan in plans)
        {
            var endpoint = endpoints.FirstOrDefault(e => string.Equals(e.Provider, plan.Provider.Id, StringComparison.OrdinalIgnoreCase))
                ?? throw new SidecarException($"the sidecar opened no proxy for {plan.Provider.Id}");
            foreach (var name in plan.Variables.KeyVariables)
            {
                environment.Variables.TryAdd(name, endpoint.Placeholder);
            }
            foreach (var name in plan.Variables.BaseUrlVariables)
            {
                environment.Variables.TryAdd(name, endpoint.LocalBaseUrl);
            }
        }
        return environment;
    }
}
