namespace Xares.Sidecar.Tools;

/// <summary>
/// The variables a tool reads for one provider, and the arguments it takes that provider's base URL
/// from when it reads no variable for it (Codex: <c>-c openai_base_url={baseUrl}</c>).
/// </summary>
internal sealed record ToolVariables(IReadOnlyList<string> KeyVariables, IReadOnlyList<string> BaseUrlVariables, IReadOnlyList<string>? BaseUrlArguments = null)
{
    /// <summary>The hole in <see cref="BaseUrlArguments"/> that the base URL fills.</summary>
    public const string BaseUrlHole = "{baseUrl}";

    public IReadOnlyList<string> BaseUrlArguments { get; } = BaseUrlArguments ?? [];

    /// <summary>True when the tool can be given a base URL at all (a variable or an argument).</summary>
    public bool TakesBaseUrl => BaseUrlVariables.Count > 0 || BaseUrlArguments.Count > 0;
}

/// <summary>
/// An AI tool and, per provider id, the environment it reads (see docs/ai-tools.md).
/// <see cref="Executable"/> is the command's file name; base-URL arguments are added only when the
/// command run is that executable, so a wrapper (<c>npx</c>, a shell script) never gets them.
/// </summary>
internal sealed record AiTool(string Name, string Description, IReadOnlyDictionary<string, ToolVariables> Providers, string? Executable = null);
