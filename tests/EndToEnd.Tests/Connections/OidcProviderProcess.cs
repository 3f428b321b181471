using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xares.EndToEnd.Tests.Flows;

namespace Xares.EndToEnd.Tests.Connections;

/// <summary>
/// npm's oidc-provider (a certified OpenID Provider nobody here wrote) run by node/oauth-server.mjs:
/// device flow, refresh-token rotation, short access tokens, introspection and revocation, plus
/// test-only routes to approve or deny a user code, arm faults and read counters.
/// </summary>
internal sealed class OidcProviderProcess : IAsyncDisposable
{
    public const string ClientId = "xares";
    public const string GitServerClientId = "git-server";

    private readonly Process _process;
    private readonly HttpClient _http;

    private OidcProviderProcess(Process process, string issuer, string clientSecret, string gitServerSecret)
    {
        _process = process;
        Issuer = issuer;
        ClientSecret = clientSecret;
        GitServerSecret = gitServerSecret;
        _http = new HttpClient { BaseAddress = new Uri(issuer + "/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Issuer { get; }

    public string ClientSecret { get; }

    public string GitServerSecret { get; }

    public string TokenUrl => Issuer + "/token";

    public string DeviceUrl => Issuer + "/device/auth";

    public string RevocationUrl => Issuer + "/token/revocation";

    public string IntrospectionUrl => Issuer + "/token/introspection";

    public string UserInfoUrl => Issuer + "/me";

    public static async Task<OidcProviderProcess> StartAsync(string logFile, int accessTokenSeconds)
    {
        var clientSecret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var gitSecret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var info = new ProcessStartInfo("node", ["oauth-server.mjs"])
        {
            WorkingDirectory = AiFixture.NodeDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["PORT"] = "0";
        info.Environment["ACCESS_TTL"] = accessTokenSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CLIENT_SECRET"] = clientSecret;
        info.Environment["GIT_CLIENT_SECRET"] = gitSecret;
        if (!Directory.Exists(Path.Combine(AiFixture.NodeDirectory, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException($"oidc-provider is not installed in {AiFixture.NodeDirectory}: run scripts/setup-node-sdks.sh (scripts/test.sh does).");
        }
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { File.AppendAllText(logFile, e.Data + "\n"); } };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var issuer = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (issuer is null || !issuer.StartsWith("http://", StringComparison.Ordinal))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("oauth-server.mjs did not start; see " + logFile);
        }
        return new OidcProviderProcess(process, issuer.Trim(), clientSecret, gitSecret);
    }

    public async Task ApproveAsync(string userCode, string account = "alice") =>
        (await _http.GetAsync($"_test/approve?user_code={Uri.EscapeDataString(userCode)}&account={account}")).EnsureSuccessStatusCode();

    public async Task DenyAsync(string userCode) =>
        (await _http.GetAsync($"_test/deny?user_code={Uri.EscapeDataString(userCode)}")).EnsureSuccessStatusCode();

    /// <summary>Arms faults: the next <paramref name="token500"/> token requests answer 500, and so on.</summary>
    public async Task FaultAsync(int token500 = 0, int tokenSlowDown = 0, int tokenHang = 0, int userinfo500 = 0) =>
        (await _http.GetAsync($"_test/fault?token500={token500}&tokenSlowDown={tokenSlowDown}&tokenHang={tokenHang}&userinfo500={userinfo500}")).EnsureSuccessStatusCode();

    public async Task SetDeviceCodeLifetimeAsync(int seconds) => (await _http.GetAsync($"_test/device-ttl?seconds={seconds}")).EnsureSuccessStatusCode();

    public async Task RevokeAllGrantsAsync() => (await _http.GetAsync("_test/revoke-grants")).EnsureSuccessStatusCode();

    public async Task ResetAsync() => (await _http.GetAsync("_test/reset")).EnsureSuccessStatusCode();

    public async Task<JsonElement> CountersAsync() => JsonDocument.Parse(await _http.GetStringAsync("_test/counters")).RootElement.Clone();

    /// <summary>What the authorization server's introspection (RFC 7662) says of an access token.</summary>
    public async Task<bool> IsActiveAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "token/introspection")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = accessToken }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{GitServerClientId}:{GitServerSecret}")));
        using var response = await _http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("active").GetBoolean();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
