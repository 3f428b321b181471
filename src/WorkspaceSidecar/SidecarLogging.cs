using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Compact;

namespace Xares.Sidecar;

/// <summary>Serilog configured in code (no reflection-based settings under AOT): compact JSON on stderr.</summary>
internal static class SidecarLogging
{
    public const string LevelVariable = "XARES_LOG_LEVEL";

    public static ILoggerFactory Create(string? level)
    {
        var logger = new LoggerConfiguration()
            .MinimumLevel.Is(ParseLevel(level))
            .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            .WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();
        return new SerilogLoggerFactory(logger, dispose: true);
    }

    private static LogEventLevel ParseLevel(string? level) => level?.Trim().ToLowerInvariant() switch
    {
        "debug" or "verbose" or "trace" => LogEventLevel.Debug,
        "warning" or "warn" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        _ => LogEventLevel.Information,
    };
}
