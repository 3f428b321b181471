using System.Diagnostics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Xares.Broker.Hosting;

/// <summary>
/// Optional OpenTelemetry tracing (`--otlp-endpoint`): a span per REST request and gRPC call
/// (ASP.NET Core's instrumentation; gRPC calls are named after their method, e.g.
/// `POST /xares.broker.v1.SidecarBroker/GetGitCredential`), a `db.write` span per write unit
/// under the request that queued it, and a `db.write_batch` span per commit linked to its units,
/// exported over OTLP. Spans never carry a secret: no headers are recorded, the query string is
/// dropped (tokens must not ride in URLs, but a caller may still put one there), and the broker's
/// own spans carry counts and names only. Metrics stay on /metrics (Prometheus).
/// </summary>
internal static class BrokerTracing
{
    public const string SourceName = "Xares.Broker";

    /// <summary>The broker's own spans; starting one costs nothing when tracing is off (no listener).</summary>
    public static readonly ActivitySource Source = new(SourceName, BrokerMetrics.Version);

    private static readonly HashSet<string> Untraced = ["/metrics", "/healthz", "/readyz"];

    public static IServiceCollection AddBrokerTracing(this IServiceCollection services, BrokerOptions options)
    {
        if (options.OtlpEndpoint is not { } endpoint)
        {
            return services;
        }
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("xares-broker", serviceVersion: BrokerMetrics.Version))
            .WithTracing(tracing => tracing
                .AddSource(SourceName)
                .AddAspNetCoreInstrumentation(aspnet =>
                {
                    aspnet.Filter = http => !Untraced.Contains(http.Request.Path.Value ?? "");
                    aspnet.RecordException = false; // exception messages are not for export
                    aspnet.EnrichWithHttpRequest = (activity, _) => activity.SetTag("url.query", null);
                })
                .AddOtlpExporter(otlp =>
                {
                    otlp.Protocol = options.OtlpProtocol;
                    otlp.Endpoint = TracesEndpoint(endpoint, options.OtlpProtocol);
                }));
        return services;
    }

    /// <summary>
    /// The collector's base URL as OTEL_EXPORTER_OTLP_ENDPOINT takes it (`http://collector:4318`);
    /// OTLP/HTTP posts traces to its /v1/traces unless the URL names a path already.
    /// </summary>
    public static Uri TracesEndpoint(Uri endpoint, OtlpExportProtocol protocol) =>
        protocol == OtlpExportProtocol.HttpProtobuf && endpoint.AbsolutePath is "/" or ""
            ? new Uri(endpoint, "/v1/traces")
            : endpoint;
}
