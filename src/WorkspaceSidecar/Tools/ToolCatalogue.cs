using System.Text.Json;

namespace Xares.Sidecar.Tools;

/// <summary>
/// The built-in providers and tools (documented in docs/ai-tools.md), plus tools from the JSON file
/// named by XARES_TOOLS_FILE, which may add tools or replace built-in ones by name.
/// </summary>
internal sealed class ToolCatalogue
{
    public const string ToolsFileVariable = "XARES_TOOLS_FILE";

    public static readonly IReadOnlyList<AiProvider> Providers =
    [
        new("openai", "https://api.openai.com/v1", KeyStyle.Bearer, ["OPENAI_API_KEY"], ["OPENAI_BASE_URL", "OPENAI_API_BASE"]),
        new("anthropic", "https://api.anthropic.com", KeyStyle.XApiKey, ["ANTHROPIC_API_KEY"], ["ANTHROPIC_BASE_URL"]),
        new("google", "https://generativelanguage.googleapis.com", KeyStyle.GoogApiKey, ["GEMINI_API_KEY", "GOOGLE_API_KEY"], ["GOOGLE_GEMINI_BASE_URL"]),
        new("openrouter", "https://openrouter.ai/api/v1", KeyStyle.Bearer, ["OPENROUTER_API_KEY"], ["OPENROUTER_BASE_URL", "OPENROUTER_API_BASE"]),
        new("groq", "https://api.groq.com/openai/v1", KeyStyle.Bearer, ["GROQ_API_KEY"], ["GROQ_BASE_URL", "GROQ_API_BASE"]),
    ];

    private static readonly IReadOnlyList<AiTool> BuiltInTools =
    [
        // aider calls providers through litellm, which reads <PROVIDER>_API_BASE for base URLs, and
        // for Gemini GOOGLE_API_KEY before GEMINI_API_KEY (both get the placeholder).
        new("aider", "aider (litellm)", new Dictionary<string, ToolVariables>
        {
            ["openai"] = new(["OPENAI_API_KEY"], ["OPENAI_API_BASE", "OPENAI_BASE_URL"]),
            ["anthropic"] = new(["ANTHROPIC_API_KEY"], ["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"]),
            ["google"] = new(["GEMINI_API_KEY", "GOOGLE_API_KEY"], ["GEMINI_API_BASE"]),
            ["openrouter"] = new(["OPENROUTER_API_KEY"], ["OPENROUTER_API_BASE"]),
            ["groq"] = new(["GROQ_API_KEY"], ["GROQ_API_BASE"]),
        }),
        new("claude", "Claude Code", new Dictionary<string, ToolVariables>
        {
            ["anthropic"] = new(["ANTHROPIC_API_KEY"], ["ANTHROPIC_BASE_URL"]),
        }),
        new("gemini", "Gemini CLI (@google/genai)", new Dictionary<string, ToolVariables>
        {
            ["google"] = new(["GEMINI_API_KEY"], ["GOOGLE_GEMINI_BASE_URL"]),
        }),
        // Codex 0.17x reads CODEX_API_KEY first and takes its base URL only from its config key
        // openai_base_url (-c overrides it; a URL is no secret). Older releases read OPENAI_BASE_URL.
        new("codex", "OpenAI Codex CLI", new Dictionary<string, ToolVariables>
        {
            ["openai"] = new(["CODEX_API_KEY", "OPENAI_API_KEY"], ["OPENAI_BASE_URL"], ["-c", "openai_base_url=" + ToolVariables.BaseUrlHole]),
        }, Executable: "codex"),
        // OpenCode's AI SDK providers read the keys and OPENAI_BASE_URL / ANTHROPIC_BASE_URL themselves;
        // other base URLs come from its config ({env:…}).
        new("opencode", "OpenCode (AI SDK)", new Dictionary<string, ToolVariables>
        {
            ["openai"] = new(["OPENAI_API_KEY"], ["OPENAI_BASE_URL"]),
            ["anthropic"] = new(["ANTHROPIC_API_KEY"], ["ANTHROPIC_BASE_URL"]),
            ["google"] = new(["GOOGLE_GENERATIVE_AI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"], ["GOOGLE_GEMINI_BASE_URL"]),
            ["openrouter"] = new(["OPENROUTER_API_KEY"], ["OPENROUTER_BASE_URL"]),
            ["groq"] = new(["GROQ_API_KEY"], ["GROQ_BASE_URL"]),
        }),
        // Continue reads keys and apiBase from its config, which references these variables.
        new("continue", "Continue (config references the variables)", new Dictionary<string, ToolVariables>
        {
            ["openai"] = new(["OPENAI_API_KEY"], ["OPENAI_BASE_URL"]),
            ["anthropic"] = new(["ANTHROPIC_API_KEY"], ["ANTHROPIC_BASE_URL"]),
            ["google"] = new(["GEMINI_API_KEY"], ["GOOGLE_GEMINI_BASE_URL"]),
            ["openrouter"] = new(["OPENROUTER_API_KEY"], ["OPENROUTER_BASE_URL"]),
            ["groq"] = new(["GROQ_API_KEY"], ["GROQ_BASE_URL"]),
        }),
    ];

    private readonly Dictionary<string, AiTool> _tools;

    private ToolCatalogue(IEnumerable<AiTool> tools) =>
        _tools = tools.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

    public static ToolCatalogue BuiltIn { get; } = new(BuiltInTools);

    public IEnumerable<AiTool> Tools => _tools.Values.OrderBy(t => t.Name, StringComparer.Ordinal);

    public static AiProvider? FindProvider(string id) =>
        Providers.FirstOrDefault(p => string.Equals(p.Id, id, StringComparison.OrdinalIgnoreCase));

    public AiTool? FindTool(string name) => _tools.GetValueOrDefault(name);

    /// <summary>The built-in catalogue, extended by XARES_TOOLS_FILE when it is set.</summary>
    public static ToolCatalogue Load(Func<string, string?> environment)
    {
        if (environment(ToolsFileVariable) is not { Length: > 0 } path)
        {
            return BuiltIn;
        }
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SidecarException($"cannot read {ToolsFileVariable} file {path}: {ex.Message}", ex);
        }
        return Parse(json, path);
    }

    internal static ToolCatalogue Parse(string json, string source)
    {
        ToolsFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, ToolsFileJsonContext.Default.ToolsFile);
        }
        catch (JsonException ex)
        {
            throw new SidecarException($"{source} is not a valid tools file: {ex.Message}", ex);
        }
        var tools = BuiltInTools.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var entry in file?.Tools ?? [])
        {
            var tool = ToTool(entry, source);
            tools[tool.Name] = tool;
        }
        return new ToolCatalogue(tools.Values);
    }

    private static AiTool ToTool(ToolsFileTool entry, string source)
    {
        if (string.IsNullOrWhiteSpace(entry.Name) || entry.Providers is not { Count: > 0 })
        {
            throw new SidecarException($"{source}: every tool needs a name and at least one provider");
        }
        var providers = new Dictionary<string, ToolVariables>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, variables) in entry.Providers)
        {
            var provider = FindProvider(id)
                ?? throw new SidecarException($"{source}: tool {entry.Name} names unknown provider {id} (known: {string.Join(", ", Providers.Select(p => p.Id))})");
            var keys = variables.KeyVariables is { Count: > 0 } k ? k : provider.KeyVariables;
            var bases = variables.BaseUrlVariables ?? provider.BaseUrlVariables;
            foreach (var name in keys.Concat(bases))
            {
                if (!IsVariableName(name))
                {
                    throw new SidecarException($"{source}: tool {entry.Name}: {name} is not an environment variable name");
                }
            }
            var arguments = variables.BaseUrlArguments ?? [];
            if (arguments.Count > 0 && (string.IsNullOrWhiteSpace(entry.Executable) || !arguments.Any(a => a.Contains(ToolVariables.BaseUrlHole, StringComparison.Ordinal))))
            {
                throw new SidecarException($"{source}: tool {entry.Name}: baseUrlArguments need the tool's \"executable\" and a {ToolVariables.BaseUrlHole} in one of them");
            }
            providers[provider.Id] = new ToolVariables([.. keys], [.. bases], [.. arguments]);
        }
        var executable = string.IsNullOrWhiteSpace(entry.Executable) ? null : entry.Executable.Trim();
        return new AiTool(entry.Name.Trim(), entry.Description ?? "", providers, executable);
    }

    private static bool IsVariableName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
