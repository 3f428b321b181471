using System.Text.Json;

namespace Xares.Sidecar.Run;

/// <summary>
/// Gemini CLI (0.6x) with <c>GOOGLE_GEMINI_BASE_URL</c> set and no stored auth choice picks its
/// "gateway" auth type, which its headless mode then rejects (exit 41, "Invalid auth method
/// selected"); no variable or argument sets the choice, and system settings files are read only
/// when root owns them. So when no settings file the CLI reads stores a choice, `run` points
/// <c>GEMINI_CLI_HOME</c> at a private temporary folder (0700) whose <c>.gemini/settings.json</c>
/// holds only <c>security.auth.selectedType: "gemini-api-key"</c> — no secret, the key stays in the
/// environment — and deletes it when the run ends. The user's HOME is not touched; their trusted
/// folders stay theirs (<c>GEMINI_CLI_TRUSTED_FOLDERS_PATH</c>).
/// </summary>
internal sealed class GeminiAuthHome : IDisposable
{
    public const string BaseUrlVariable = "GOOGLE_GEMINI_BASE_URL";
    public const string HomeVariable = "GEMINI_CLI_HOME";
    public const string TrustedFoldersVariable = "GEMINI_CLI_TRUSTED_FOLDERS_PATH";
    private const string Settings = """{"security": {"auth": {"selectedType": "gemini-api-key"}}}""";

    private readonly string _folder;

    private GeminiAuthHome(string folder) => _folder = folder;

    /// <summary>
    /// Adds <c>GEMINI_CLI_HOME</c> (and the user's trusted-folders file) to <paramref name="variables"/>
    /// when the run is Gemini CLI's, sets its base URL and no auth choice is stored; null otherwise.
    /// </summary>
    public static GeminiAuthHome? Prepare(string? toolName, IDictionary<string, string> variables, Func<string, string?> environment)
    {
        if (!string.Equals(toolName, "gemini", StringComparison.OrdinalIgnoreCase) ||
            !variables.ContainsKey(BaseUrlVariable) || variables.ContainsKey(HomeVariable) ||
            StoredChoiceFiles(environment).Any(HasAuthChoice))
        {
            return null;
        }
        var userGemini = Path.Combine(UserHome(environment), ".gemini");
        var folder = Directory.CreateTempSubdirectory("xares-gemini-").FullName;
        try
        {
            var dotGemini = Directory.CreateDirectory(Path.Combine(folder, ".gemini")).FullName;
            File.WriteAllText(Path.Combine(dotGemini, "settings.json"), Settings);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
        variables[HomeVariable] = folder;
        if (environment(TrustedFoldersVariable) is not { Length: > 0 })
        {
            variables[TrustedFoldersVariable] = Path.Combine(userGemini, "trustedFolders.json");
        }
        return new GeminiAuthHome(folder);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Holds no secret; a tool that left something locked behind only leaves a temp folder.
        }
    }

    /// <summary>Where Gemini CLI looks for a stored auth choice: its system settings, system defaults and user settings.</summary>
    internal static IEnumerable<string> StoredChoiceFiles(Func<string, string?> environment)
    {
        var system = environment("GEMINI_CLI_SYSTEM_SETTINGS_PATH") is { Length: > 0 } s ? s : "/etc/gemini-cli/settings.json";
        yield return system;
        yield return environment("GEMINI_CLI_SYSTEM_DEFAULTS_PATH") is { Length: > 0 } d ? d : Path.Combine(Path.GetDirectoryName(system) ?? "/", "system-defaults.json");
        yield return Path.Combine(UserHome(environment), ".gemini", "settings.json");
    }

    internal static bool HasAuthChoice(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }
            using var document = JsonDocument.Parse(File.ReadAllBytes(path),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("security", out var security) && security.ValueKind == JsonValueKind.Object &&
                security.TryGetProperty("auth", out var auth) && auth.ValueKind == JsonValueKind.Object &&
                auth.TryGetProperty("selectedType", out var selected) && selected.ValueKind == JsonValueKind.String &&
                selected.GetString() is { Length: > 0 };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // Unreadable or not JSON: Gemini CLI cannot read a choice from it either.
            return false;
        }
    }

    private static string UserHome(Func<string, string?> environment) =>
        environment(HomeVariable) is { Length: > 0 } home ? home
        : environment("HOME") is { Length: > 0 } h ? h
        : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}
