using System.Text.Json.Serialization;

namespace Xares.Sidecar.Tools;

/// <summary>The XARES_TOOLS_FILE format (docs/ai-tools.md).</summary>
internal sealed class ToolsFile
{
    public List<ToolsFileTool>? Tools { get; set; }
}

internal sealed class ToolsFileTool
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    /// <summary>Provider id → variables; omitted lists fall back to the provider's standard variables.</summary>
    public Dictionary<string, ToolsFileVariables>? Providers { get; set; }
}

internal sealed class ToolsFileVariables
{
    public List<string>? KeyVariables { get; set; }

    public List<string>? BaseUrlVariables { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ToolsFile))]
internal sealed partial class ToolsFileJsonContext : JsonSerializerContext;
