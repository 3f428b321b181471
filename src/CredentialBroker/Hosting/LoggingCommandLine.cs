using System.CommandLine;
using Serilog.Events;

namespace Xares.Broker.Hosting;

/// <summary>The log level and per-category overrides: what `serve` logs, changeable by SIGHUP.</summary>
internal sealed record LogSettings
{
    public LogEventLevel Level { get; init; } = LogEventLevel.Information;

    /// <summary>Levels for log categories (namespace or class prefixes) that differ from <see cref="Level"/>.</summary>
    public IReadOnlyDictionary<string, LogEventLevel> Categories { get; init; } = new Dictionary<string, LogEventLevel>();
}

/// <summary>`--log-level LEVEL` and `--log-category-level CATEGORY=LEVEL`, also XARES_LOG_LEVEL, XARES_LOG_CATEGORY_LEVELS and the settings file.</summary>
internal static class LoggingCommandLine
{
    private static readonly Option<string> Level = new("--log-level")
    {
        Description = "Verbose, Debug, Information, Warning, Error or Fatal (Trace and Critical also accepted; env XARES_LOG_LEVEL, default Information).",
    };
    private static readonly Option<string[]> CategoryLevel = new("--log-category-level")
    {
        Description = "CATEGORY=LEVEL for one log category (a namespace or class prefix, e.g. Xares.Broker.Docker=Debug); repeat or comma-separate (env XARES_LOG_CATEGORY_LEVELS).",
    };

    public static IEnumerable<Option> Options => [Level, CategoryLevel];

    public static LogSettings Read(ParseResult parse)
    {
        var settings = SettingsFile.For(parse);
        var read = new LogSettings();
        if (OptionValues.Text(parse, Level, "XARES_LOG_LEVEL") is { } text)
        {
            if (TryParse(text, out var level))
            {
                read = read with { Level = level };
            }
            else
            {
                settings.Error($"{settings.Sources(Level.Name, "XARES_LOG_LEVEL")}: '{text}' is not a log level (Verbose, Debug, Information, Warning, Error, Fatal).");
            }
        }
        var categories = new Dictionary<string, LogEventLevel>(StringComparer.Ordinal);
        var given = parse.GetValue(CategoryLevel) is { Length: > 0 } flags ? flags
            : OptionValues.Env("XARES_LOG_CATEGORY_LEVELS") is { } env ? [env]
            : settings.Pairs(CategoryLevel.Name.TrimStart('-'));
        foreach (var entry in given.SelectMany(g => g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var parts = entry.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[0].Length > 0 && TryParse(parts[1], out var level))
            {
                categories[parts[0]] = level;
            }
            else
            {
                settings.Error($"{settings.Sources(CategoryLevel.Name, "XARES_LOG_CATEGORY_LEVELS")}: '{entry}' is not CATEGORY=LEVEL.");
            }
        }
        return read with { Categories = categories };
    }

    private static bool TryParse(string text, out LogEventLevel level)
    {
        var name = text.Trim() switch
        {
            var t when t.Equals("Trace", StringComparison.OrdinalIgnoreCase) => nameof(LogEventLevel.Verbose),
            var t when t.Equals("Critical", StringComparison.OrdinalIgnoreCase) => nameof(LogEventLevel.Fatal),
            var t => t,
        };
        return Enum.TryParse(name, ignoreCase: true, out level) && Enum.IsDefined(level) && !int.TryParse(name, out _);
    }
}
