using System.Net;
using Xares.Broker.Hosting;
using Xares.Broker.Tests.Support;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.WebUi;

/// <summary>The UI's routes, headers and cookie naming in-process; sign-in itself runs against a real provider in EndToEnd.Tests.</summary>
public sealed class WebUiHostTests
{
    private static readonly WebUiSettings Ui = new()
    {
        Issuer = new Uri("https://login.example.test"), ClientId = "xares", ClientSecret = "secret",
    };

    [Fact]
    public async Task UiOff_NoUiRoutes()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var client = host.CreateClient(null);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/ui/credentials")).StatusCode);
    }

    [Fact]
    public async Task UiOn_PagesNeedSignIn_RedirectCarriesTheStrictHeaders_RestStillApiKeysOnly()
    {
        await using var host = await BrokerTestHost.StartAsync(o => o with { Ui = Ui });
        using var client = host.CreateClient(null);

        using var page = await client.GetAsync("/ui/credentials/cred_x");
        using var rest = await client.GetAsync("/api/v1/users");
        using var withKey = await host.Admin.GetAsync("/api/v1/users");
        using var css = await client.GetAsync("/ui/ui.css");
        using var signedOut = await client.GetAsync("/ui/signed-out");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/ui/signin", page.Headers.Location!.AbsolutePath);
        Assert.Contains("returnUrl=%2Fui%2Fcredentials%2Fcred_x", page.Headers.Location.Query, StringComparison.Ordinal);
        Assert.Equal(UiSecurityHeaders.Policy(Ui.Issuer!), page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal(HttpStatusCode.Unauthorized, rest.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, signedOut.StatusCode);
        Assert.Contains("You are signed out", await signedOut.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_NoInlineAnything_NoFraming_FormsOnlyToSelfAndTheIssuer()
    {
        var policy = UiSecurityHeaders.Policy(new Uri("https://login.example.test/realms/x"));

        Assert.Equal("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' https://login.example.test; frame-ancestors 'none'; base-uri 'none'", policy);
    }

    [Theory]
    [InlineData("https://rest.example:7400", false, "__Host-xares-ui")]
    [InlineData("http://10.0.0.5:7400", true, "__Host-xares-ui")]
    [InlineData("http://127.0.0.1:7400", false, "xares-ui")]
    public void CookieName_HostPrefixedWheneverTheBrowserUsesHttps(string restUrl, bool behindProxy, string expected) =>
        Assert.Equal(expected, WebUiAuthentication.CookieName(new BrokerOptions { RestUrl = restUrl, PlaintextBehindProxy = behindProxy }));

    [Theory]
    [InlineData("/ui/credentials", true)]
    [InlineData("/ui/credentials/cred_1?x=1", true)]
    [InlineData("/api/v1/users", false)]
    [InlineData("//evil.example/ui/", false)]
    [InlineData("https://evil.example/ui/x", false)]
    [InlineData("/ui/\\evil", false)]
    [InlineData(null, false)]
    public void IsLocal_OnlyUiPathsFollowSignIn(string? url, bool local) => Assert.Equal(local, WebUiEndpoints.IsLocal(url));
}
