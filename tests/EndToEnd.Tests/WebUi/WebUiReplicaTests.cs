using Microsoft.Playwright;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// The web UI behind several replicas: a session, its anti-forgery tokens and its sign-out hold on
/// every replica, because sessions and the DataProtection key ring live in the shared database.
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
}
