using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Run;

/// <summary>One provider a run serves: the credential chosen for it and the variables the tool reads.</summary>
internal sealed record ProviderPlan(AiProvider Provider, AiCredential Credential, ToolVariables Variables);

/// <summary>Chooses, from the owner's AI credentials, what a tool (or, without --tool, every provider) gets.</summary>
internal static class ToolPlan
{
    public static IReadOnlyList<ProviderPlan> Create(ToolCatalogue catalogue, string? toolName, IReadOnlyList<AiCredential> credentials)
    {
        // The first credential of a provider is the one offered (the broker lists the owner's default first).
        var byProvider = new Dictionary<string, AiCredential>(StringComparer.OrdinalIgnoreCase);
        foreach (var credential in credentials)
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
                : throw new SidecarException("the workspace owner has no AI credentials; add one through the broker (kind \"ai\")");
        }
        var tool = catalogue.FindTool(toolName)
            ?? throw new SidecarException($"unknown tool {toolName}; known tools: {string.Join(", ", catalogue.Tools.Select(t => t.Name))} (add more with {ToolCatalogue.ToolsFileVariable})");
        var chosen = ToolCatalogue.Providers
            .Where(p => tool.Providers.ContainsKey(p.Id) && byProvider.ContainsKey(p.Id))
            .Select(p => new ProviderPlan(p, byProvider[p.Id], tool.Providers[p.Id]))
            .ToList();
        return chosen.Count > 0
            ? chosen
            : throw new SidecarException(
                $"no AI credential for tool {tool.Name}: it uses {string.Join(" or ", ToolCatalogue.Providers.Where(p => tool.Providers.ContainsKey(p.Id)).Select(p => p.Id))}, " +
                $"and the workspace owner has {(byProvider.Count == 0 ? "no AI credentials" : "only " + string.Join(", ", byProvider.Keys))}");
    }
}
