using Microsoft.Playwright;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>Sign-in through the provider's login form, the session cookie, sign-out, and the attacks on them.</summary>
public sealed class WebUiSignInTests(WebUiFixture ui) : IClassFixture<WebUiFixture>
{
    [Fact]
    public async Task SignIn_AtTheProvidersLoginForm_LandsOnMyCredentialsWithAHostOnlyHttpOnlyLaxCookie()
    {
        var page = await ui.SignInAsync("bob");

        Assert.Equal(ui.Broker.RestUrl + "/ui/credentials", page.Url);
        Assert.Equal("My credentials", await page.Locator("h1").TextContentAsync());
        Assert.Equal("Bob Builder", await page.Locator(".who").TextContentAsync());
        var session = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "xares-ui");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, session.SameSite);
        Assert.Equal("/", session.Path);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SignOut_EndsTheSessionOnTheServer_AndTheNextSignInGetsANewSessionId()
    {
        var context = await ui.NewContextAsync();
        // A session id planted before sign-in (fixation) is never adopted.
        await context.AddCookiesAsync([new Cookie { Name = "xares-ui", Value = "planted-by-an-attacker", Url = ui.Broker.RestUrl }]);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/credentials");
        await page.FillAsync("input[name=login]", "bob");
        await page.FillAsync("input[name=password]", "x");
        await page.ClickAsync("button[type=submit]");
        await UiChecks.ArriveAsync(page, "/ui/credentials");
        var first = await SessionCookieAsync(context);
        Assert.NotEqual("planted-by-an-attacker", first);

        await page.ClickAsync("text=Sign out");
        await UiChecks.ArriveAsync(page, "/ui/signed-out");
        UiChecks.AssertStrictCsp(await page.ReloadAsync());
        await UiChecks.AssertAccessibleAsync(page);
        Assert.Null(await SessionCookieOrNullAsync(context));

        // The old cookie, replayed from elsewhere, is worthless: the server forgot the session.
        var thief = await ui.NewContextAsync();
        await thief.AddCookiesAsync([new Cookie { Name = "xares-ui", Value = first, Url = ui.Broker.RestUrl }]);
        var replay = await thief.APIRequest.GetAsync("/ui/credentials", new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(302, replay.Status);
        Assert.StartsWith("/ui/signin", new Uri(new Uri(ui.Broker.RestUrl), replay.Headers["location"]).PathAndQuery, StringComparison.Ordinal);

        // Signing in again (the provider remembers bob: no form) makes a new session id.
        await page.GotoAsync("/ui/credentials");
        await UiChecks.ArriveAsync(page, "/ui/credentials");
        Assert.NotEqual(first, await SessionCookieAsync(context));
        await context.CloseAsync();
        await thief.CloseAsync();
    }

    [Fact]
    public async Task ForgedCallback_WithoutTheBrowsersCorrelationCookie_IsRefused_NoSession()
    {
        var context = await ui.NewContextAsync();

        var forged = await UiChecks.PostWithoutTokenAsync(context, "/ui/signin-oidc", "code=attackers-code&state=attackers-state");

        Assert.Equal(302, forged.Status);
        Assert.Equal("/ui/signin-failed", forged.Headers["location"]);
        Assert.Null(await SessionCookieOrNullAsync(context));
        var page = await context.NewPageAsync();
        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/signin-failed"));
        await UiChecks.AssertAccessibleAsync(page);
        await context.CloseAsync();
    }

    [Fact]
    public async Task FirstSignIn_OfAnUnknownEmail_CreatesTheUser_AndAdminsAloneSeeTheUsersPage()
    {
        var carol = await ui.SignInAsync("carol");
        Assert.Equal("Carol New", await carol.Locator(".who").TextContentAsync());
        var users = AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, "api/v1/users"));
        Assert.Single(users, u => u.GetProperty("email").GetString() == "carol@example.test");
        Assert.Equal(0, await carol.Locator("nav >> text=Users").CountAsync());
        Assert.Equal(404, (await carol.GotoAsync("/ui/admin/users"))!.Status);

        var alice = await ui.SignInAsync("alice");
        await alice.ClickAsync("nav >> text=Users");
        await Assertions.Expect(alice.Locator("tbody")).ToContainTextAsync("carol@example.test");
        await UiChecks.AssertAccessibleAsync(alice);
        await UiChecks.ScreenshotAsync(alice, "admin-users");
        await carol.Context.CloseAsync();
        await alice.Context.CloseAsync();
    }

    [Fact]
    public async Task UiCookie_DoesNotAuthenticateRest_ApiKeysStillDo()
    {
        var page = await ui.SignInAsync("alice");

        var withCookie = await page.Context.APIRequest.GetAsync("/api/v1/users");

        Assert.Equal(401, withCookie.Status);
        Assert.NotEmpty(AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, "api/v1/users")));
        await page.Context.CloseAsync();
    }

    private static async Task<string> SessionCookieAsync(IBrowserContext context) =>
        await SessionCookieOrNullAsync(context) ?? throw new InvalidOperationException("no session cookie");

    private static async Task<string?> SessionCookieOrNullAsync(IBrowserContext context) =>
        (await context.CookiesAsync()).FirstOrDefault(c => c.Name == "xares-ui")?.Value;
}
