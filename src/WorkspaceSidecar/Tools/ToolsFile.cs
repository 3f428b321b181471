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

    /// <summary>The command's file name; base-URL arguments are added only when the command run is this.</summary>
    public string? Executable { get; set; }

    /// <summary>Provider id → variables; omitted lists fall back to the provider's standard variables.</summary>
    public Dictionary<string, ToolsFileVariables>? Providers { get; set; }
}

internal sealed class ToolsFileVariables
{
    public List<string>? KeyVariables { get; set; }

    public List<string>? BaseUrlVariables { get; set; }

    /// <summary>Arguments that carry the base URL (its place marked <c>{baseUrl}</c>), for a tool that reads no variable for it.</summary>
    public List<string>? BaseUrlArguments { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ToolsFile))]
internal sealed partial class ToolsFileJsonContext : JsonSerializerContext;
