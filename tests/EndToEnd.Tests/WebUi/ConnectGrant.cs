using Microsoft.Playwright;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>The browser redirect grant of the Connections page, driven step by step so a test can stop between the steps.</summary>
internal static class ConnectGrant
{
    /// <summary>
    /// Clicks "Connect <paramref name="provider"/>" on the Connections page the browser is at and
    /// returns the provider's authorize URL the broker redirected to, without the browser going there.
    /// </summary>
    public static async Task<string> StartAsync(IPage page, string provider)
    {
        string? authorize = null;
        var connect = new System.Text.RegularExpressions.Regex(@"/ui/connections\?handler=Connect$");
        await page.RouteAsync(connect, async route =>
        {
            var answer = await route.FetchAsync(new RouteFetchOptions { MaxRedirects = 0 });
            authorize = answer.Headers.GetValueOrDefault("location");
            await route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "text/html", Body = "<h1>stopped</h1>" });
        });
        await page.ClickAsync($"button:text('Connect {provider}')");
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(authorize is not null), TimeSpan.FromSeconds(30)), "Connect did not redirect to the provider");
        await page.UnrouteAsync(connect);
        return authorize!;
    }

    /// <summary>Follows the provider's redirects with the context's cookies up to <paramref name="brokerUrl"/>'s callback URL, not requesting it.</summary>
    public static async Task<string> CallbackOfAsync(IBrowserContext context, string authorize, string brokerUrl)
    {
        var callback = brokerUrl + "/ui/connections/callback?";
        var url = authorize;
        for (var hop = 0; hop < 8 && !url.StartsWith(callback, StringComparison.Ordinal); hop++)
        {
            var answer = await context.APIRequest.GetAsync(url, new APIRequestContextOptions { MaxRedirects = 0 });
            var location = answer.Headers.GetValueOrDefault("location");
            Assert.True(location is not null, $"the provider answered {answer.Status} at {url} without a redirect");
            url = new Uri(new Uri(url), location).AbsoluteUri;
        }
        Assert.StartsWith(callback, url, StringComparison.Ordinal);
        return url;
    }
}
