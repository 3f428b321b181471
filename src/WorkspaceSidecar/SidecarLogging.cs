using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Compact;

namespace Xares.Sidecar;

/// <summary>
/// Serilog configured in code (no reflection-based settings under AOT): JSON lines on stderr in
/// the broker's shape (rendered compact JSON), levels named as the broker names them.
/// </summary>
internal static class SidecarLogging
{
    public const string LevelVariable = "XARES_LOG_LEVEL";

    /// <summary>CATEGORY=LEVEL pairs, comma-separated (e.g. `Xares.Sidecar.Revocations=Debug`).</summary>
    public const string CategoryLevelsVariable = "XARES_LOG_CATEGORY_LEVELS";

    public static ILoggerFactory Create(string? level, string? categoryLevels = null)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(ParseLevel(level, LevelVariable))
            .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning);
        foreach (var entry in (categoryLevels ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0)
            {
                throw SidecarException.Setting($"{CategoryLevelsVariable}: '{entry}' is not CATEGORY=LEVEL.");
            }
            configuration.MinimumLevel.Override(parts[0], ParseLevel(parts[1], CategoryLevelsVariable));
        }
        var logger = configuration
            .WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();
        return new SerilogLoggerFactory(logger, dispose: true);
    }

    private static LogEventLevel ParseLevel(string? level, string variable) => level?.Trim().ToLowerInvariant() switch
    {
        null or "" or "information" or "info" => LogEventLevel.Information,
        "verbose" or "trace" => LogEventLevel.Verbose,
        "debug" => LogEventLevel.Debug,
        "warning" or "warn" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        "fatal" or "critical" => LogEventLevel.Fatal,
        _ => throw SidecarException.Setting($"{variable}: '{level}' is not a log level (Verbose, Debug, Information, Warning, Error, Fatal)."),
    };
}
