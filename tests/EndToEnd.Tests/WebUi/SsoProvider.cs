using System.Diagnostics;
using System.Security.Cryptography;
using Xares.EndToEnd.Tests.Flows;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// The organisation's identity provider: npm's oidc-provider run by node/sso-idp.mjs with its
/// login form, PKCE required, and the people alice (group xares-admins), bob and carol.
/// </summary>
internal sealed class SsoProvider : IAsyncDisposable
{
    public const string ClientId = "xares-ui";

    /// <summary>The client users connect accounts through (the Connections page's redirect grant).</summary>
    public const string ConnectClientId = "xares-connect";

    private readonly Process _process;

    private SsoProvider(Process process, string issuer, string? connectClientSecret)
    {
        _process = process;
        Issuer = issuer;
        ConnectClientSecret = connectClientSecret;
    }

    public string Issuer { get; }

    public string? ConnectClientSecret { get; }

    /// <summary>A free loopback port, so the broker can be told the issuer before the provider (which needs the broker's callback URL) starts.</summary>
    public static string ReserveIssuer() => $"http://127.0.0.1:{FreePort.Next()}";

    public static string NewClientSecret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24));

    /// <summary>With <paramref name="connectRedirectUri"/>, also the "xares-connect" client (a new secret) for connecting accounts.</summary>
    public static async Task<SsoProvider> StartAsync(string issuer, string clientSecret, string redirectUri, string logFile, string? connectRedirectUri = null)
    {
        if (!Directory.Exists(Path.Combine(AiFixture.NodeDirectory, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException($"oidc-provider is not installed in {AiFixture.NodeDirectory}: run scripts/setup-node-sdks.sh (scripts/test.sh does).");
        }
        var info = new ProcessStartInfo("node", ["sso-idp.mjs"])
        {
            WorkingDirectory = AiFixture.NodeDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["PORT"] = new Uri(issuer).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CLIENT_SECRET"] = clientSecret;
        info.Environment["REDIRECT_URI"] = redirectUri;
        var connectSecret = connectRedirectUri is null ? null : NewClientSecret();
        if (connectRedirectUri is not null)
        {
            info.Environment["CONNECT_CLIENT_SECRET"] = connectSecret!;
            info.Environment["CONNECT_REDIRECT_URI"] = connectRedirectUri;
        }
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { File.AppendAllText(logFile, e.Data + "\n"); } };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var printed = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (printed?.Trim() != issuer)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"sso-idp.mjs did not start on {issuer}; see {logFile}");
        }
        return new SsoProvider(process, issuer, connectSecret);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
