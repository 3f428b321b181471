using System.CommandLine;
using System.Runtime.CompilerServices;

namespace Xares.Broker.Hosting;

/// <summary>
/// `--config FILE` (env XARES_CONFIG): a JSON object whose keys are the command-line option names
/// without their dashes (`"rest-url"`, `"outbound-allow": [...]`), read through
/// Microsoft.Extensions.Configuration. A flag beats its XARES_* variable, which beats the file.
/// Every problem found while reading settings is collected here, so a start that fails names all
/// of them at once instead of one per attempt.
/// </summary>
internal sealed class SettingsFile
{
    public static readonly Option<string> Option = new("--config")
    {
        Description = "A JSON settings file whose keys are these options' names (env XARES_CONFIG); flags beat XARES_* variables, which beat the file.",
        Recursive = true,
    };

    // Keys with no flag of their own.
    private static readonly string[] FileOnlyKeys = ["master-key-file"];
    private static readonly ConditionalWeakTable<ParseResult, SettingsFile> Loaded = new();

    private readonly IConfiguration? _file;
    private readonly List<string> _errors = [];

    private SettingsFile(ParseResult parse)
    {
        Path = parse.GetValue(Option) ?? OptionValues.Env("XARES_CONFIG");
        if (Path is null)
        {
            return;
        }
        try
        {
            _file = new ConfigurationBuilder().AddJsonFile(System.IO.Path.GetFullPath(Path), optional: false, reloadOnChange: false).Build();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
        {
            // The JSON reader names the line; its message never holds a value from the file.
            _errors.Add($"--config {Path}: {e.Message.TrimEnd('.')}.");
            return;
        }
        var known = KnownKeys(parse.RootCommandResult.Command);
        foreach (var key in _file.GetChildren().Select(c => c.Key))
        {
            if (key == "master-key")
            {
                _errors.Add($"--config {Path}: the master key itself never goes in a settings file; name a file holding it with \"master-key-file\" or set XARES_MASTER_KEY.");
            }
            else if (key == "ui-oidc-client-secret")
            {
                _errors.Add($"--config {Path}: the web UI's client secret never goes in a settings file; name a file holding it with \"ui-oidc-client-secret-file\" or set XARES_UI_OIDC_CLIENT_SECRET.");
            }
            else if (!known.Contains(key))
            {
                _errors.Add($"--config {Path}: unknown setting \"{key}\".");
            }
        }
    }

    /// <summary>The settings file of this command line (read once per parse).</summary>
    public static SettingsFile For(ParseResult parse) => Loaded.GetValue(parse, p => new SettingsFile(p));

    /// <summary>Reads the file again (SIGHUP): later reads of this parse see the new contents.</summary>
    public static SettingsFile Reread(ParseResult parse)
    {
        var fresh = new SettingsFile(parse);
        Loaded.AddOrUpdate(parse, fresh);
        return fresh;
    }

    public string? Path { get; }

    /// <summary>A scalar setting (numbers and booleans arrive as their text), or null.</summary>
    public string? Value(string key) => _file?.GetSection(key) is { Value: { Length: > 0 } value } ? value : null;

    /// <summary>A list setting: a JSON array, or one string; empty when absent.</summary>
    public string[] Values(string key) => _file?.GetSection(key) is not { } section
        ? []
        : section.Value is { Length: > 0 } single ? [single] : [.. section.GetChildren().Select(c => c.Value).OfType<string>()];

    /// <summary>An object setting's entries (`{"category": "level"}`), or an array of `key=value` strings.</summary>
    public IEnumerable<string> Pairs(string key) => _file?.GetSection(key) is not { } section
        ? []
        : section.GetChildren().Select(c => int.TryParse(c.Key, out _) ? c.Value ?? "" : $"{c.Key}={c.Value}");

    /// <summary>Where a setting may come from, for error messages.</summary>
    public string Sources(string flag, string env) =>
        Path is null ? $"{flag} ({env})" : $"{flag} ({env}, or \"{flag.TrimStart('-')}\" in {Path})";

    public void Error(string message) => _errors.Add(message);

    /// <summary>Stops the start with every problem collected, each on its own line.</summary>
    public void ThrowIfErrors()
    {
        if (_errors.Count == 1)
        {
            throw new SettingsException(_errors[0]);
        }
        if (_errors.Count > 1)
        {
            throw new SettingsException($"{_errors.Count} settings are wrong:{string.Concat(_errors.Select(e => $"\n  - {e}"))}");
        }
    }

    // The root command carries every option of `serve` (and the shared ones): those are the settings.
    private static HashSet<string> KnownKeys(Command root) =>
        [.. FileOnlyKeys, .. root.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o != Option && o is not (System.CommandLine.Help.HelpOption or VersionOption)).Select(o => o.Name[2..])];
}
