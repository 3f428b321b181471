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
}
