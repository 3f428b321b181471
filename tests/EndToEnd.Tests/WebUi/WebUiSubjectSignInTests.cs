using Microsoft.Playwright;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// A broker started with --ui-user-match subject: people are found by the identity provider's
/// subject stored on their user, never by e-mail. In node/sso-idp.mjs an account's sub is its
/// login name (alice, bob, carol).
/// </summary>
public sealed class WebUiSubjectSignInTests(WebUiSubjectFixture ui) : IClassFixture<WebUiSubjectFixture>
{
    [Fact]
    public async Task SignIn_UserLinkedBySubject_WithAnotherEmail_SeesTheirPages()
    {
        // The provider says bob@example.test; the broker user has another address, linked by subject only.
        var bobId = AdminClient.IdOf(await ui.Admin.SendAsync(HttpMethod.Post, "api/v1/users",
            new { name = "Robert Linked", email = "robert@corp.example", oidcSubject = "bob" }));

        var page = await ui.SignInAsync("bob");

        await UiChecks.ArriveAsync(page, "/ui/credentials");
        Assert.Equal("My credentials", await page.Locator("h1").TextContentAsync());
        Assert.Equal("Robert Linked", await page.Locator(".who").TextContentAsync());
        await page.GotoAsync("/ui/workspaces");
        await UiChecks.ArriveAsync(page, "/ui/workspaces");
        var signIns = await ui.Admin.QueryAuditAsync(userId: bobId);
        Assert.DoesNotContain(signIns, r => r.GetProperty("action").GetString() == "user.create"
            && r.GetProperty("actor").GetString()!.StartsWith("oidc:", StringComparison.Ordinal)); // found, not created
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SignIn_EmailMatchesButNoSubject_Refused_UntilAnAdminLinksTheSubject()
    {
        // Has exactly the address the provider sends for alice, but no subject: that links nobody here.
        var aliceId = AdminClient.IdOf(await ui.Admin.SendAsync(HttpMethod.Post, "api/v1/users", new { name = "Alice Admin", email = "alice@example.test" }));

        var refused = await ui.SignInAsync("alice");

        await UiChecks.ArriveAsync(refused, "/ui/no-account");
        Assert.Contains("no Xares user is linked to your account", await refused.Locator("main").TextContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(await refused.Context.CookiesAsync(), c => c.Name == "xares-ui");
        await UiChecks.AssertAccessibleAsync(refused);
        await refused.Context.CloseAsync();

        await ui.Admin.SendAsync(HttpMethod.Patch, $"api/v1/users/{aliceId}", new { oidcSubject = "alice" });
        var admin = await ui.SignInAsync("alice");

        await UiChecks.ArriveAsync(admin, "/ui/credentials");
        Assert.Equal("Alice Admin", await admin.Locator(".who").TextContentAsync());
        await admin.GotoAsync("/ui/admin/users");
        await UiChecks.ArriveAsync(admin, "/ui/admin/users");
        // The users page shows the subject it is linked by (third column).
        await Assertions.Expect(admin.Locator("tr", new PageLocatorOptions { HasText = "alice@example.test" }).Locator("td").Nth(2)).ToHaveTextAsync("alice");
        await admin.Context.CloseAsync();
    }
}

/// <summary>A published broker signing people in by subject, its identity provider and a headless chromium.</summary>
public sealed class WebUiSubjectFixture : IAsyncLifetime
{
    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create("xuis-");

    internal SsoProvider Sso { get; private set; } = null!;

    internal BrokerProcess Broker { get; private set; } = null!;

    internal AdminClient Admin { get; private set; } = null!;

    internal IPlaywright Playwright { get; private set; } = null!;

    internal IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var issuer = SsoProvider.ReserveIssuer();
        var clientSecret = SsoProvider.NewClientSecret();
        Broker = await BrokerProcess.StartAsync(Directory, new BrokerLaunch(
            Arguments: ["--ui-oidc-issuer", issuer, "--ui-oidc-client-id", SsoProvider.ClientId, "--ui-oidc-scopes", "openid,profile,email,groups",
                "--ui-user-match", "subject", "--ui-admin-claim", "groups=xares-admins"],
            Environment: new Dictionary<string, string> { ["XARES_UI_OIDC_CLIENT_SECRET"] = clientSecret }));
        Sso = await SsoProvider.StartAsync(issuer, clientSecret, Broker.RestUrl + "/ui/signin-oidc", Path.Combine(Directory.Logs, "sso-idp.log"));
        Admin = Broker.CreateAdminClient();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Assertions.SetDefaultExpectTimeout(30_000);
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = WebUiFixture.ChromiumPath, Headless = true });
    }

    /// <summary>Opens /ui/credentials in a new context and signs in at the provider's login form; the page is wherever the broker then sends it.</summary>
    internal async Task<IPage> SignInAsync(string login)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Broker.RestUrl });
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
