using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>What every web UI page must pass: its security headers, an axe-core scan, and (for the docs) a screenshot.</summary>
internal static class UiChecks
{
    /// <summary>The response's Content-Security-Policy forbids inline script and style and any framing.</summary>
    public static void AssertStrictCsp(IResponse? response)
    {
        Assert.NotNull(response);
        var csp = response.Headers.GetValueOrDefault("content-security-policy");
        Assert.NotNull(csp);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("style-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", csp, StringComparison.Ordinal); // none at all: default-src 'none' applies
        Assert.Equal("nosniff", response.Headers.GetValueOrDefault("x-content-type-options"));
    }

    /// <summary>
    /// Waits until the page is at a path matching <paramref name="pathPattern"/> (<c>*</c>: one path
    /// segment or part of it, <c>**</c>: anything; a query may follow) and shows its heading.
    /// Not WaitForURLAsync: when the URL already matches it waits for a load event, and after a
    /// POST answered by a redirect that wait was seen to miss the event and time out.
    /// </summary>
    public static async Task ArriveAsync(IPage page, string pathPattern)
    {
        var path = Regex.Escape(pathPattern).Replace(@"\*\*", ".*", StringComparison.Ordinal).Replace(@"\*", "[^/?]*", StringComparison.Ordinal);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"^https?://[^/]+{path}(\\?.*)?$"));
        await Assertions.Expect(page.Locator("main h1")).ToBeVisibleAsync();
    }

    /// <summary>Opens /ui in <paramref name="page"/> (no session yet), is sent to the identity provider and signs in there as <paramref name="login"/>.</summary>
    public static async Task SignInAtProviderAsync(IPage page, string issuer, string login)
    {
        await page.GotoAsync("/ui/credentials");
        Assert.StartsWith(issuer, page.Url, StringComparison.Ordinal); // sent to the provider to sign in
        await page.FillAsync("input[name=login]", login);
        await page.FillAsync("input[name=password]", "any password");
        await page.ClickAsync("button[type=submit]");
        await ArriveAsync(page, "/ui/**");
    }

    /// <summary>axe-core (injected by Deque's package) finds no serious or critical violation on the page as it is now.</summary>
    public static async Task AssertAccessibleAsync(IPage page)
    {
        var result = await page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html))}").ToList();
        Assert.True(bad.Count == 0, $"axe-core on {page.Url}:\n{string.Join("\n", bad)}");
    }

    /// <summary>Writes docs/ui/NAME.png (the screenshots docs/ui.md shows).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(Artifacts.RepositoryRoot, "docs", "ui");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    /// <summary>Collects console errors (a CSP violation is reported there) of the broker's pages.</summary>
    public static List<string> WatchConsole(IPage page, string brokerUrl)
    {
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && page.Url.StartsWith(brokerUrl, StringComparison.Ordinal))
            {
                lock (errors)
                {
                    errors.Add($"{page.Url}: {message.Text}");
                }
            }
        };
        return errors;
    }

    /// <summary>A form POST with the context's cookies but without the page's anti-forgery token; redirects are not followed.</summary>
    public static Task<IAPIResponse> PostWithoutTokenAsync(IBrowserContext context, string path, string body = "") =>
        context.APIRequest.PostAsync(path, new APIRequestContextOptions
        {
            Headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-www-form-urlencoded" },
            DataString = body,
            MaxRedirects = 0,
        });
}
