using System.CommandLine;
using OpenTelemetry.Exporter;

namespace Xares.Broker.Hosting;

/// <summary>`--otlp-endpoint URL` and `--otlp-protocol`, also XARES_OTLP_ENDPOINT, XARES_OTLP_PROTOCOL and the settings file.</summary>
internal static class TracingCommandLine
{
    private static readonly Option<string> Endpoint = new("--otlp-endpoint")
    {
        Description = "Export traces over OTLP to this collector, e.g. http://otel-collector:4318; unset: tracing off (env XARES_OTLP_ENDPOINT).",
    };
    private static readonly Option<string> Protocol = new("--otlp-protocol")
    {
        Description = "http/protobuf (default; traces go to the endpoint's /v1/traces) or grpc (env XARES_OTLP_PROTOCOL).",
    };

    public static IEnumerable<Option> Options => [Endpoint, Protocol];

    public static BrokerOptions Read(ParseResult parse, BrokerOptions options)
    {
        var settings = SettingsFile.For(parse);
        var protocol = OptionValues.Text(parse, Protocol, "XARES_OTLP_PROTOCOL") switch
        {
            null or "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            "grpc" => OtlpExportProtocol.Grpc,
            var other => Refuse(settings.Sources(Protocol.Name, "XARES_OTLP_PROTOCOL") + $" must be http/protobuf or grpc, not '{other}'."),
        };
        Uri? endpoint = null;
        if (OptionValues.Text(parse, Endpoint, "XARES_OTLP_ENDPOINT") is { } text)
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.UserInfo.Length == 0 && uri.Query.Length == 0)
            {
                endpoint = uri;
            }
            else
            {
                // Not echoed: a URL with user info could hold a password.
                settings.Error($"{settings.Sources(Endpoint.Name, "XARES_OTLP_ENDPOINT")} must be an http:// or https:// URL without user info or query, e.g. http://otel-collector:4318.");
            }
        }
        return options with { OtlpEndpoint = endpoint, OtlpProtocol = protocol };

        OtlpExportProtocol Refuse(string message)
        {
            settings.Error(message);
            return OtlpExportProtocol.HttpProtobuf;
        }
    }
}
