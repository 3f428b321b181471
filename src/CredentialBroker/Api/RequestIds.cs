namespace Xares.Broker.Api;

/// <summary>
/// Every REST and gRPC request gets a request id: a sane incoming `X-Request-Id` (what a proxy or
/// the platform already logs), else a new one. It is echoed in the response header, becomes the
/// request's TraceIdentifier, is added to problem+json as `requestId`, and is on every log line
/// written while the request runs (property `RequestId`). That takes a logging scope rather than
/// Serilog's LogContext: ASP.NET's own request scope already carries a `RequestId` (the connection-
/// based trace id, captured before any middleware runs), and only an inner scope overrides it.
/// </summary>
internal static class RequestIds
{
    public const string Header = "X-Request-Id";
    public const string LogProperty = "RequestId";
    private const int MaxLength = 64;

    public static IServiceCollection AddRequestIds(this IServiceCollection services) =>
        services.Configure<ProblemDetailsOptions>(problems =>
        {
            var previous = problems.CustomizeProblemDetails;
            problems.CustomizeProblemDetails = context =>
            {
                previous?.Invoke(context);
                context.ProblemDetails.Extensions["requestId"] = context.HttpContext.TraceIdentifier;
            };
        });

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RequestIds).FullName!);
        return app.Use(async (context, next) =>
        {
            string? incoming = context.Request.Headers[Header];
            var id = IsSane(incoming) ? incoming! : Guid.CreateVersion7().ToString("N");
            context.TraceIdentifier = id;
            // At the last moment: the exception handler clears headers set earlier.
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[Header] = id;
                return Task.CompletedTask;
            });
            using (logger.BeginScope(new KeyValuePair<string, object>[] { new(LogProperty, id) }))
            {
                await next(context);
            }
        });
    }

    /// <summary>Short printable ASCII without spaces or quotes: safe in a header, a log line and JSON.</summary>
    internal static bool IsSane(string? id) =>
        id is { Length: > 0 and <= MaxLength } && id.All(c => c is > ' ' and < '\u007f' and not '"' and not '\\');
}
