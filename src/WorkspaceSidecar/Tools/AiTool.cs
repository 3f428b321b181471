namespace Xares.Sidecar.Tools;

/// <summary>The variables a tool reads for one provider.</summary>
internal sealed record ToolVariables(IReadOnlyList<string> KeyVariables, IReadOnlyList<string> BaseUrlVariables);

/// <summary>An AI tool and, per provider id, the environment it reads (see docs/ai-tools.md).</summary>
internal sealed record AiTool(string Name, string Description, IReadOnlyDictionary<string, ToolVariables> Providers);
