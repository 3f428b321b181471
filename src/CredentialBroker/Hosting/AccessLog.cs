using Serilog;
using Serilog.Events;
using Xares.Broker.Api;

namespace Xares.Broker.Hosting;

/// <summary>
/// One structured line per REST request (Serilog's request logging): method, path (never the
/// query string), status, elapsed time, request id, client address and the API key id that
/// called. gRPC calls are left out (sidecars make thousands per second; their outcomes are
/// counted in metrics), and health and metrics probes log only at Debug.
/// </summary>
internal static class AccessLog
{
    private static readonly HashSet<string> Probes = new(StringComparer.Ordinal) { "/healthz", "/readyz", "/metrics" };

    public static IApplicationBuilder UseAccessLog(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(options =>
        {
            // The host's own logger: the process-wide static logger is left silent on purpose.
            options.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} answered {StatusCode} in {Elapsed:0.0} ms";
            options.GetLevel = (context, _, exception) => Level(context, exception);
            options.EnrichDiagnosticContext = (diagnostics, context) =>
            {
                diagnostics.Set(RequestIds.LogProperty, context.TraceIdentifier);
                diagnostics.Set("RemoteAddress", context.Connection.RemoteIpAddress?.ToString());
                diagnostics.Set("ApiKeyId", context.User.FindFirst(CallerClaims.KeyId)?.Value);
            };
        });

    private static LogEventLevel Level(HttpContext context, Exception? exception)
    {
        if (ApiKeyAuthenticationHandler.IsGrpc(context.Request))
        {
            return LogEventLevel.Verbose;
        }
        if (exception is not null || context.Response.StatusCode >= 500)
        {
            return LogEventLevel.Error;
        }
        return Probes.Contains(context.Request.Path.Value ?? "") ? LogEventLevel.Debug : LogEventLevel.Information;
    }
}
