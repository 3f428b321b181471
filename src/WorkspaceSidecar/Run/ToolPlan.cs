using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Run;

/// <summary>One provider a run serves: the credential chosen for it and the variables the tool reads.</summary>
internal sealed record ProviderPlan(AiProvider Provider, AiCredential Credential, ToolVariables Variables);

/// <summary>Chooses, from the owner's AI credentials, what a tool (or, without --tool, every provider) gets.</summary>
internal static class ToolPlan
{
    public static IReadOnlyList<ProviderPlan> Create(ToolCatalogue catalogue, string? toolName, AiCredentialsResponse listed, bool inject = false) =>
        Create(catalogue, toolName, listed.Credentials, listed.ExcludedByPolicy, inject);

    /// <param name="excludedByPolicy">The owner's credentials the workspace policy keeps from this workspace: named when nothing else is usable.</param>
    /// <param name="inject">For `env` and `run --mode inject`: proxy-only credentials are passed over, and named when nothing else is usable.</param>
    public static IReadOnlyList<ProviderPlan> Create(ToolCatalogue catalogue, string? toolName, IReadOnlyList<AiCredential> credentials,
        IReadOnlyList<ExcludedAiCredential>? excludedByPolicy = null, bool inject = false)
    {
        excludedByPolicy ??= [];
        var proxyOnly = inject ? credentials.Where(c => c.ProxyOnly).ToList() : [];
        // The first credential of a provider is the one offered (the broker lists the owner's default first).
        var byProvider = new Dictionary<string, AiCredential>(StringComparer.OrdinalIgnoreCase);
        foreach (var credential in credentials.Except(proxyOnly))
        {
            byProvider.TryAdd(credential.Provider, credential);
        }
        if (toolName is null)
        {
            var plans = ToolCatalogue.Providers
                .Where(p => byProvider.ContainsKey(p.Id))
                .Select(p => new ProviderPlan(p, byProvider[p.Id], new ToolVariables(p.KeyVariables, p.BaseUrlVariables)))
                .ToList();
            return plans.Count > 0
                ? plans
                : excludedByPolicy.Count > 0
                    ? throw new SidecarException(PolicyExcludes(excludedByPolicy))
                    : proxyOnly.Count > 0
                        ? throw new SidecarException(ProxyOnly(proxyOnly))
                        : throw new SidecarException("the workspace owner has no AI credentials; add one through the broker (kind \"ai\")");
        }
        var tool = catalogue.FindTool(toolName)
            ?? throw new SidecarException($"unknown tool {toolName}; known tools: {string.Join(", ", catalogue.Tools.Select(t => t.Name))} (add more with {ToolCatalogue.ToolsFileVariable})");
        var chosen = ToolCatalogue.Providers
            .Where(p => tool.Providers.ContainsKey(p.Id) && byProvider.ContainsKey(p.Id))
            .Select(p => new ProviderPlan(p, byProvider[p.Id], tool.Providers[p.Id]))
            .ToList();
        var excludedForTool = excludedByPolicy.Where(e => tool.Providers.ContainsKey(e.Provider)).ToList();
        if (chosen.Count == 0 && excludedForTool.Count > 0)
        {
            throw new SidecarException($"no usable AI credential for tool {tool.Name}: {PolicyExcludes(excludedForTool)}");
        }
        var proxyOnlyForTool = proxyOnly.Where(c => tool.Providers.ContainsKey(c.Provider)).ToList();
        if (chosen.Count == 0 && proxyOnlyForTool.Count > 0)
        {
            throw new SidecarException($"no AI credential of tool {tool.Name} may be injected: {ProxyOnly(proxyOnlyForTool)}");
        }
        return chosen.Count > 0
            ? chosen
            : throw new SidecarException(
                $"no AI credential for tool {tool.Name}: it uses {string.Join(" or ", ToolCatalogue.Providers.Where(p => tool.Providers.ContainsKey(p.Id)).Select(p => p.Id))}, " +
                $"and the workspace owner has {(byProvider.Count == 0 ? "no AI credentials" : "only " + string.Join(", ", byProvider.Keys))}");
    }

    /// <summary>Says which credentials are proxy-only and what works instead.</summary>
    private static string ProxyOnly(IReadOnlyCollection<AiCredential> proxyOnly) =>
        $"{string.Join(", ", proxyOnly.Select(c => $"the {c.Provider} credential {c.CredentialId}"))} {(proxyOnly.Count == 1 ? "is" : "are")} proxy-only "
        + "(its key never enters a workspace process); use `xares-sidecar run` in proxy mode (the default), or ask for delivery \"any\" on the credential";

    /// <summary>Says that (and which) credentials exist but the workspace policy excludes their hosts, and how to change it.</summary>
    public static string PolicyExcludes(IReadOnlyCollection<ExcludedAiCredential> excluded) =>
        $"the workspace owner has {(excluded.Count == 1 ? "an AI credential" : "AI credentials")} that this workspace may not use: "
        + $"the workspace policy's allowedHosts exclude {string.Join(", ", excluded.Select(e => $"{e.Host} (the {e.Provider} credential {e.CredentialId})"))}; "
        + "to allow it, a broker admin adds the host to the workspace's allowedHosts with PATCH /api/v1/workspaces/{id}";
}
