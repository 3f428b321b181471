using Microsoft.Playwright;
using Xares.DevGitServer;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// One published broker with its web UI signing in through a real OpenID provider
/// (<see cref="SsoProvider"/>), a smart-HTTP git server to test tokens against, and one headless
/// Debian chromium shared by the class (each test opens its own browser contexts, i.e. its own cookies).
/// The broker has users alice and bob (by e-mail); carol is created at her first sign-in.
/// </summary>
public sealed class WebUiFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create("xui-");

    internal SsoProvider Sso { get; private set; } = null!;

    internal BrokerProcess Broker { get; private set; } = null!;

    internal AdminClient Admin { get; private set; } = null!;

    internal GitHttpServer Git { get; private set; } = null!;

    internal IPlaywright Playwright { get; private set; } = null!;

    internal IBrowser Browser { get; private set; } = null!;

    internal string AliceId { get; private set; } = "";

    internal string BobId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: run scripts/install-prerequisites.sh (scripts/test.sh does).");
        }
        var issuer = SsoProvider.ReserveIssuer();
        var clientSecret = SsoProvider.NewClientSecret();
        // The client secret reaches the broker through its environment, never its argv.
        Broker = await BrokerProcess.StartAsync(Directory, new BrokerLaunch(
            Arguments: ["--outbound-allow", "127.0.0.1", "--ui-oidc-issuer", issuer, "--ui-oidc-client-id", SsoProvider.ClientId,
                "--ui-oidc-scopes", "openid,profile,email,groups", "--ui-create-users", "--ui-admin-claim", "groups=xares-admins"],
            Environment: new Dictionary<string, string> { ["XARES_UI_OIDC_CLIENT_SECRET"] = clientSecret }));
        Sso = await SsoProvider.StartAsync(issuer, clientSecret, Broker.RestUrl + "/ui/signin-oidc", Path.Combine(Directory.Logs, "sso-idp.log"),
            connectRedirectUri: Broker.RestUrl + "/ui/connections/callback");
        Admin = Broker.CreateAdminClient();
        AliceId = AdminClient.IdOf(await Admin.SendAsync(HttpMethod.Post, "api/v1/users", new { name = "Alice Admin", email = "alice@example.test" }));
        BobId = AdminClient.IdOf(await Admin.SendAsync(HttpMethod.Post, "api/v1/users", new { name = "Bob Builder", email = "bob@example.test" }));
        Git = await GitHttpServer.StartAsync(new GitHttpServerOptions { RepositoriesRoot = Directory.Sub("git") });
        await Git.CreateRepositoryAsync("team/app.git");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        // Expectations poll; 5 s (the default) is short for a loaded 2-core machine.
        Assertions.SetDefaultExpectTimeout(30_000);
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
    }

    /// <summary>A fresh browser context (no cookies) at laptop width, or phone width.</summary>
    internal Task<IBrowserContext> NewContextAsync(bool phone = false) => Browser.NewContextAsync(new BrowserNewContextOptions
    {
        BaseURL = Broker.RestUrl,
        ViewportSize = phone ? new ViewportSize { Width = 390, Height = 844 } : new ViewportSize { Width = 1280, Height = 860 },
    });

    /// <summary>Opens /ui in a new context and signs in at the identity provider's login form as <paramref name="login"/>.</summary>
    internal async Task<IPage> SignInAsync(string login, bool phone = false)
    {
        var context = await NewContextAsync(phone);
        var page = await context.NewPageAsync();
        await UiChecks.SignInAtProviderAsync(page, Sso.Issuer, login);
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Playwright?.Dispose();
        Admin?.Dispose();
        if (Git is not null)
        {
            await Git.DisposeAsync();
        }
        if (Sso is not null)
        {
            await Sso.DisposeAsync();
        }
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
        Directory.Dispose();
    }
}
