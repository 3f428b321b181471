using System.Security.Cryptography;
using Microsoft.Playwright;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// Two published brokers with the web UI (replicas A and B, separate processes) on one fresh
/// PostgreSQL database and master key, signing in and connecting accounts through the real OpenID
/// provider (whose redirects go to A), and one headless chromium. Both listen on 127.0.0.1, and browsers do not
/// separate cookies by port, so a browser signed in on A sends the same cookies to B — as it would
/// to two replicas behind one address.
/// </summary>
public sealed class WebUiReplicaFixture : IAsyncLifetime
{
    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create("xuir-");

    internal string Database { get; private set; } = "";

    internal SsoProvider Sso { get; private set; } = null!;

    internal BrokerProcess A { get; private set; } = null!;

    internal BrokerProcess B { get; private set; } = null!;

    internal IPlaywright Playwright { get; private set; } = null!;

    internal IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await PostgresServer.CreateDatabaseAsync();
        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var issuer = SsoProvider.ReserveIssuer();
        var clientSecret = SsoProvider.NewClientSecret();
        BrokerLaunch Replica(string name, bool writesAdminKey) => new(
            name,
            ["--outbound-allow", "127.0.0.1", "--ui-oidc-issuer", issuer, "--ui-oidc-client-id", SsoProvider.ClientId,
                "--ui-oidc-scopes", "openid,profile,email,groups", "--ui-create-users"],
            new Dictionary<string, string>
            {
                ["XARES_MASTER_KEY"] = masterKey, ["XARES_DATABASE"] = Database, ["XARES_UI_OIDC_CLIENT_SECRET"] = clientSecret,
            },
            writesAdminKey);
        A = await BrokerProcess.StartAsync(Directory, Replica("replica-a", writesAdminKey: true));
        B = await BrokerProcess.StartAsync(Directory, Replica("replica-b", writesAdminKey: false));
        // Its "xares-connect" client sends connected accounts back to A too (the tests send the browser on to B).
        Sso = await SsoProvider.StartAsync(issuer, clientSecret, A.RestUrl + "/ui/signin-oidc", Path.Combine(Directory.Logs, "sso-idp.log"),
            A.RestUrl + "/ui/connections/callback");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Assertions.SetDefaultExpectTimeout(30_000);
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = WebUiFixture.ChromiumPath, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Playwright?.Dispose();
        if (Sso is not null)
        {
            await Sso.DisposeAsync();
        }
        if (A is not null)
        {
            await A.DisposeAsync();
        }
        if (B is not null)
        {
            await B.DisposeAsync();
        }
        if (Database.Length > 0)
        {
            await PostgresServer.DropDatabaseAsync(Database);
        }
        Directory.Dispose();
    }
}
