using Microsoft.Playwright;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// The web UI behind several replicas: a session, its anti-forgery tokens, its sign-out and an OAuth
/// connection in flight hold on every replica, because sessions, redirect grants and the
/// DataProtection key ring live in the shared database.
/// </summary>
public sealed class WebUiReplicaTests(WebUiReplicaFixture replicas) : IClassFixture<WebUiReplicaFixture>
{
    [Fact]
    public async Task SignInOnA_UsedOnB_FormWithAsTokenAcceptedByB_SignOutOnB_EndsTheSessionOnA()
    {
        var context = await replicas.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(replicas.A.RestUrl + "/ui/credentials");
        Assert.StartsWith(replicas.Sso.Issuer, page.Url, StringComparison.Ordinal);
        await page.FillAsync("input[name=login]", "bob");
        await page.FillAsync("input[name=password]", "any password");
        await page.ClickAsync("button[type=submit]");
        await UiChecks.ArriveAsync(page, "/ui/credentials");
        Assert.StartsWith(replicas.A.RestUrl + "/", page.Url, StringComparison.Ordinal);
        var session = (await context.CookiesAsync()).Single(c => c.Name == "xares-ui").Value;
        var tokenFromA = await page.Locator("input[name=__RequestVerificationToken]").First.InputValueAsync();

        // Replica B knows the session A started.
        await page.GotoAsync(replicas.B.RestUrl + "/ui/credentials");
        Assert.Equal(replicas.B.RestUrl + "/ui/credentials", page.Url);
        Assert.Equal("Bob Builder", await page.Locator(".who").TextContentAsync());

        // A form on B, submitted with the anti-forgery token A issued, is accepted by B.
        await page.Locator("input[name=__RequestVerificationToken]").First.EvaluateAsync("(input, token) => input.value = token", tokenFromA);
        await page.SelectOptionAsync("#kind", "git");
        await page.SelectOptionAsync("#provider", "generic");
        await page.FillAsync("#name", "across replicas");
        await page.FillAsync("#url", "http://127.0.0.1:9/team/app.git");
        await page.FillAsync("#username", "bob");
        await page.FillAsync("#secret", TestSecrets.NewToken());
        await page.ClickAsync("text=Add token");
        await UiChecks.ArriveAsync(page, "/ui/credentials/cred_*");
        Assert.StartsWith(replicas.B.RestUrl + "/", page.Url, StringComparison.Ordinal);
        Assert.Equal("across replicas", await page.Locator("h1").TextContentAsync());

        // Signing out on B ends the session on A too: the old cookie, replayed to A, is refused.
        await page.GotoAsync(replicas.B.RestUrl + "/ui/signout");
        await page.ClickAsync("button:text('Sign out')");
        await UiChecks.ArriveAsync(page, "/ui/signed-out");
        Assert.StartsWith(replicas.B.RestUrl + "/", page.Url, StringComparison.Ordinal);
        var replay = await replicas.Browser.NewContextAsync();
        await replay.AddCookiesAsync([new Cookie { Name = "xares-ui", Value = session, Url = replicas.A.RestUrl }]);
        var refused = await replay.APIRequest.GetAsync(replicas.A.RestUrl + "/ui/credentials", new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(302, refused.Status);
        Assert.StartsWith("/ui/signin", new Uri(new Uri(replicas.A.RestUrl), refused.Headers["location"]).PathAndQuery, StringComparison.Ordinal);
        await replay.CloseAsync();
        await context.CloseAsync();
    }

    [Fact]
    public async Task ConnectStartedOnA_ProviderAnswersToB_ConnectionActive_CallbackUsedUpOnBoth()
    {
        using var admin = replicas.A.CreateAdminClient();
        await admin.SendAsync(HttpMethod.Post, "api/v1/oauth-providers", new
        {
            name = "sso-replicas", kind = "generic", authorizeUrl = replicas.Sso.Issuer + "/auth", tokenUrl = replicas.Sso.Issuer + "/token",
            clientId = SsoProvider.ConnectClientId, clientSecret = replicas.Sso.ConnectClientSecret, scopes = new[] { "openid" },
            gitUrl = "http://127.0.0.1:9", gitUsername = "oauth2",
        });
        var context = await replicas.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(replicas.A.RestUrl + "/ui/connections");
        await page.FillAsync("input[name=login]", "alice");
        await page.FillAsync("input[name=password]", "any password");
        await page.ClickAsync("button[type=submit]");
        await UiChecks.ArriveAsync(page, "/ui/connections");
        Assert.StartsWith(replicas.A.RestUrl + "/", page.Url, StringComparison.Ordinal);

        // Connect on A; the provider (alice is signed in there) approves and answers to A's callback URL,
        // which the load balancer would have sent to B: the browser opens it on B.
        var authorize = await ConnectGrant.StartAsync(page, "sso-replicas");
        var callbackOnA = await ConnectGrant.CallbackOfAsync(context, authorize, replicas.A.RestUrl);
        Assert.Contains("code=", callbackOnA, StringComparison.Ordinal);
        var callbackOnB = replicas.B.RestUrl + callbackOnA[replicas.A.RestUrl.Length..];
        await page.GotoAsync(callbackOnB);
        await UiChecks.ArriveAsync(page, "/ui/connections");
        Assert.StartsWith(replicas.B.RestUrl + "/", page.Url, StringComparison.Ordinal);
        var row = page.Locator("tbody tr", new PageLocatorOptions { HasText = "sso-replicas" });
        await Assertions.Expect(row).ToContainTextAsync("active");

        var connected = Assert.Single(await admin.QueryAuditAsync(action: "connection.connect"), r => r.GetProperty("outcome").GetString() == "success");
        var connection = await admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connected.GetProperty("credentialId").GetString()}");
        Assert.Equal("active", connection.GetProperty("status").GetString());

        // The state was used once, for every replica: the same answer replayed to A or B connects nothing.
        foreach (var replay in new[] { callbackOnA, callbackOnB })
        {
            Assert.Equal(400, (await page.GotoAsync(replay))!.Status);
            await Assertions.Expect(page.Locator("main")).ToContainTextAsync("used already");
        }
        Assert.Single(await admin.QueryAuditAsync(action: "connection.connect"), r => r.GetProperty("outcome").GetString() == "success");
        await context.CloseAsync();
    }
}
