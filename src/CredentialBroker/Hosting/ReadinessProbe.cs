using System.CommandLine;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Xares.Broker.Hosting;

/// <summary>
/// `xares-broker health`: asks the local broker's GET /readyz and exits 0 only on 200, so a
/// container HEALTHCHECK or a supervisor needs no curl in the image. It reads the REST address
/// from the same flag, variable and settings file as `serve`; a wildcard listener is asked on
/// loopback. An https listener is trusted when it presents the configured --tls-cert (its name
/// need not be "localhost"), otherwise through the system's roots.
/// </summary>
internal static class ReadinessProbe
{
    private static readonly Option<string> Url = new("--url") { Description = "The broker's REST URL (default: --rest-url / XARES_REST_URL / the settings file)." };
    private static readonly Option<int> TimeoutSeconds = new("--timeout-seconds") { Description = "Give up after this long.", DefaultValueFactory = _ => 5 };

    public static Command Command()
    {
        var command = new Command("health", "Exit 0 when the local broker's /readyz answers 200 (for container health checks).") { Url, TimeoutSeconds };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var listener = parse.GetValue(Url) ?? OptionValues.Text(parse, "XARES_REST_URL", "rest-url") ?? new BrokerOptions().RestUrl;
            var pinned = OptionValues.Text(parse, "XARES_TLS_CERT", "tls-cert");
            var (ready, message) = await ProbeAsync(ProbeUri(listener), pinned, TimeSpan.FromSeconds(parse.GetValue(TimeoutSeconds)), cancellationToken);
            (ready ? parse.InvocationConfiguration.Output : parse.InvocationConfiguration.Error).WriteLine(message);
            return ready ? 0 : 1;
        });
        return command;
    }

    /// <summary>The /readyz address for a listener URL: a wildcard host (0.0.0.0, [::], *, +) becomes loopback.</summary>
    internal static Uri ProbeUri(string listener)
    {
        var builder = new UriBuilder(new Uri(listener.Replace("://*:", "://0.0.0.0:").Replace("://+:", "://0.0.0.0:")));
        builder.Host = builder.Host switch
        {
            "0.0.0.0" => "127.0.0.1",
            "[::]" or "::" => "[::1]",
            var host => host,
        };
        builder.Path = "/readyz";
        return builder.Uri;
    }

    /// <summary>Accepts the server's certificate when it is <paramref name="pinned"/>; otherwise the usual chain and name checks decide.</summary>
    internal static bool Trust(X509Certificate2? pinned, X509Certificate? presented, SslPolicyErrors errors) =>
        errors == SslPolicyErrors.None
        || (pinned is not null && presented is not null && presented.GetCertHash().AsSpan().SequenceEqual(pinned.GetCertHash()));

    private static async Task<(bool Ready, string Message)> ProbeAsync(Uri uri, string? pinnedFile, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var pinned = pinnedFile is not null && uri.Scheme == Uri.UriSchemeHttps ? X509Certificate2.CreateFromPemFile(pinnedFile) : null;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, errors) => Trust(pinned, presented, errors) },
        };
        using var client = new HttpClient(handler) { Timeout = timeout };
        try
        {
            using var response = await client.GetAsync(uri, cancellationToken);
            return response.IsSuccessStatusCode
                ? (true, $"{uri}: ready")
                : (false, $"{uri}: not ready ({(int)response.StatusCode}) {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (false, $"{uri}: no answer ({e.Message.TrimEnd('.')}).");
        }
    }
}
