using System.Text.Json;
using Xares.DevGitServer;

namespace Xares.EndToEnd.Tests.Connections;

/// <summary>
/// A broker (SQLite, --outbound-allow 127.0.0.1), the oidc-provider authorization server with
/// 15-second access tokens, and a git server that accepts a password only when that server's
/// introspection (RFC 7662, as the git-server client) calls it an active token. The provider is
/// registered as "test-idp" with the git server as its git host.
/// </summary>
public sealed class OAuthFixture : IAsyncLifetime
{
    internal const string ProviderName = "test-idp";
    private int _counter;

    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create("xo-");

    internal OidcProviderProcess Idp { get; private set; } = null!;

    internal GitHttpServer GitServer { get; private set; } = null!;

    internal BrokerProcess Broker { get; private set; } = null!;

    internal AdminClient Admin { get; private set; } = null!;

    internal string ProviderId { get; private set; } = "";

    internal string NextName(string prefix) => $"{prefix}{Interlocked.Increment(ref _counter)}";

    public async Task InitializeAsync()
    {
        Idp = await OidcProviderProcess.StartAsync(Path.Combine(Directory.Logs, "oidc-provider.log"), accessTokenSeconds: 15);
        GitServer = await StartGitServerAsync(Directory, Idp);
        Broker = await BrokerProcess.StartAsync(Directory, "--outbound-allow", "127.0.0.1");
        Admin = Broker.CreateAdminClient();
        ProviderId = AdminClient.IdOf(await RegisterProviderAsync(Admin, Idp, ProviderName, GitServer.BaseUrl));
    }

    internal static async Task<GitHttpServer> StartGitServerAsync(ScratchDirectory directory, OidcProviderProcess idp)
    {
        var server = await GitHttpServer.StartAsync(new GitHttpServerOptions
        {
            RepositoriesRoot = directory.Sub("git"), TokenIntrospectionUrl = new Uri(idp.IntrospectionUrl),
            IntrospectionClientId = OidcProviderProcess.GitServerClientId, IntrospectionClientSecret = idp.GitServerSecret,
        });
        await server.CreateRepositoryAsync("acme/app.git");
        return server;
    }

    internal static Task<JsonElement> RegisterProviderAsync(AdminClient admin, OidcProviderProcess idp, string name, string gitUrl, string? tokenUrl = null) =>
        admin.SendAsync(HttpMethod.Post, "api/v1/oauth-providers", new
        {
            name, kind = "generic", tokenUrl = tokenUrl ?? idp.TokenUrl, deviceAuthorizationUrl = idp.DeviceUrl, revocationUrl = idp.RevocationUrl,
            userInfoUrl = idp.UserInfoUrl, clientId = OidcProviderProcess.ClientId, clientSecret = idp.ClientSecret,
            scopes = new[] { "openid", "offline_access" }, gitUrl, gitUsername = "oauth2",
        });

    /// <summary>Starts a device grant over REST, approves it at the authorization server, and waits until the broker reports it active.</summary>
    internal static async Task<string> ConnectAsync(AdminClient admin, OidcProviderProcess idp, string userId, string provider)
    {
        var started = await admin.SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/connections", new { providerId = provider });
        Assert.Equal("pending", started.GetProperty("status").GetString());
        var id = AdminClient.IdOf(started);
        await idp.ApproveAsync(started.GetProperty("userCode").GetString()!);
        await WaitForStatusAsync(admin, id, "active");
        return id;
    }

    internal static async Task<JsonElement> WaitForStatusAsync(AdminClient admin, string connectionId, string status, TimeSpan? timeout = null)
    {
        JsonElement last = default;
        var reached = await Poll.UntilAsync(async () =>
        {
            last = await admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}");
            return last.GetProperty("status").GetString() == status;
        }, timeout ?? TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));
        Assert.True(reached, $"connection {connectionId} did not become {status}: {last}");
        return last;
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
        if (GitServer is not null)
        {
            await GitServer.DisposeAsync();
        }
        if (Idp is not null)
        {
            await Idp.DisposeAsync();
        }
        Directory.Dispose();
    }
}
