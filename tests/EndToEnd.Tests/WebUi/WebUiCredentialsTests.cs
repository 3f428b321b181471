using Microsoft.Playwright;
using Xares.DevGitServer;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// "My credentials" in a real browser: add a token through the form, see it listed, test it
/// against a real git server, replace it, delete it with confirmation; and the page-level
/// defences: CSP, anti-forgery, inert user text, 404 for another user's ids, axe-core.
/// </summary>
public sealed class WebUiCredentialsTests(WebUiFixture ui) : IClassFixture<WebUiFixture>
{
    [Fact]
    public async Task AddTestReplaceDelete_ThroughTheForms_SecretNeverInHtmlUrlOrCookie_PagesAccessibleAndStrictCsp()
    {
        var token = TestSecrets.NewToken();
        var replacement = TestSecrets.NewToken();
        ui.Git.AddAccount(new GitAccount("alice", token, null));
        var page = await ui.SignInAsync("alice");
        var consoleErrors = UiChecks.WatchConsole(page, ui.Broker.RestUrl);
        var seen = new List<string>(); // every page's HTML and URL, to search for the secrets at the end

        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/credentials"));
        await page.SelectOptionAsync("#kind", "git");
        await page.SelectOptionAsync("#provider", "generic");
        await page.FillAsync("#name", "team app");
        await page.FillAsync("#url", ui.Git.RepositoryUrl("team/app.git"));
        await page.FillAsync("#username", "alice");
        await page.FillAsync("#secret", token);
        await page.FillAsync("#limit", "100");
        await page.ClickAsync("text=Add token");
        await UiChecks.ArriveAsync(page, "/ui/credentials/cred_*");
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        seen.Add(page.Url + await page.ContentAsync());
        Assert.Equal("team app", await page.Locator("h1").TextContentAsync());

        await page.ClickAsync("text=Test now");
        await Assertions.Expect(page.Locator("p.notice")).ToContainTextAsync("Test passed");
        Assert.Equal("active", await page.Locator(".health").TextContentAsync());
        seen.Add(page.Url + await page.ContentAsync());
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "credential");

        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/credentials"));
        var row = page.Locator("tbody tr", new PageLocatorOptions { HasText = "team app" });
        await Assertions.Expect(row).ToContainTextAsync("git · generic");
        await Assertions.Expect(row).ToContainTextAsync("active");
        await Assertions.Expect(row).ToContainTextAsync("of 100");
        Assert.Contains(token[^4..], await row.TextContentAsync(), StringComparison.Ordinal); // the hint shows the end only
        seen.Add(page.Url + await page.ContentAsync());
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "credentials");

        await page.GotoAsync($"/ui/credentials/{id}");
        await page.FillAsync("#new-secret", replacement);
        await page.ClickAsync("button:text('Replace')");
        await Assertions.Expect(page.Locator("p.notice")).ToContainTextAsync("The secret was replaced");
        await Assertions.Expect(page.Locator("dl.facts")).ToContainTextAsync("version 2");
        seen.Add(page.Url + await page.ContentAsync());

        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/activity"));
        await Assertions.Expect(page.Locator("tbody")).ToContainTextAsync("credential.update");
        await Assertions.Expect(page.Locator("tbody")).ToContainTextAsync($"web-ui:{ui.AliceId}");
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "activity");

        await page.GotoAsync($"/ui/credentials/{id}");
        await page.ClickAsync("text=Delete…");
        await UiChecks.ArriveAsync(page, $"/ui/credentials/{id}/delete");
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "delete");
        await page.ClickAsync("button:text('Delete')");
        await UiChecks.ArriveAsync(page, "/ui/credentials");
        Assert.Equal(0, await page.Locator("tbody tr", new PageLocatorOptions { HasText = "team app" }).CountAsync());
        var gone = await Assert.ThrowsAsync<HttpRequestException>(() => ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/credentials/{id}"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);

        var cookies = string.Join(";", (await page.Context.CookiesAsync()).Select(c => c.Name + "=" + c.Value));
        foreach (var secret in new[] { token, replacement })
        {
            Assert.All(seen, html => Assert.DoesNotContain(secret, html, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, cookies, StringComparison.Ordinal);
        }
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AnotherUsersCredential_ByUrl_Answers404_AndCannotBeDeleted()
    {
        var secret = TestSecrets.NewToken();
        var alices = AdminClient.IdOf(await ui.Admin.CreateGitCredentialAsync(ui.AliceId, ui.Git.RepositoryUrl("team/app.git"), "alice", secret));
        var bob = await ui.SignInAsync("bob");

        Assert.Equal(404, (await bob.GotoAsync($"/ui/credentials/{alices}"))!.Status);
        Assert.Equal(404, (await bob.GotoAsync($"/ui/credentials/{alices}/delete"))!.Status);
        Assert.DoesNotContain(secret[^4..], await bob.ContentAsync(), StringComparison.Ordinal);
        await bob.GotoAsync("/ui/credentials");
        Assert.DoesNotContain(alices, await bob.ContentAsync(), StringComparison.Ordinal);
        // Even a POST carrying a valid anti-forgery token of bob's own session is answered 404.
        await bob.GotoAsync("/ui/credentials");
        var antiforgery = await bob.Locator("form.form input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        var post = await UiChecks.PostWithoutTokenAsync(bob.Context, $"/ui/credentials/{alices}/delete", $"__RequestVerificationToken={Uri.EscapeDataString(antiforgery!)}");
        Assert.Equal(404, post.Status);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await ui.Admin.ExchangeAsync(HttpMethod.Get, $"api/v1/credentials/{alices}")).Status);
        await bob.Context.CloseAsync();
    }

    [Fact]
    public async Task StateChangingPost_WithoutAntiforgeryToken_IsRefusedAndChangesNothing()
    {
        var id = AdminClient.IdOf(await ui.Admin.CreateGitCredentialAsync(ui.BobId, ui.Git.RepositoryUrl("team/app.git"), "bob", TestSecrets.NewToken()));
        var bob = await ui.SignInAsync("bob");

        var delete = await UiChecks.PostWithoutTokenAsync(bob.Context, $"/ui/credentials/{id}/delete");
        var add = await UiChecks.PostWithoutTokenAsync(bob.Context, "/ui/credentials",
            "Form.Kind=git&Form.Provider=generic&Form.Url=https%3A%2F%2Fgit.example%2Fa%2Fb&Form.Username=bob&Form.Secret=abcdefgh12345678");
        var signOut = await UiChecks.PostWithoutTokenAsync(bob.Context, "/ui/signout");

        Assert.Equal(400, delete.Status);
        Assert.Equal(400, add.Status);
        Assert.Equal(400, signOut.Status);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await ui.Admin.ExchangeAsync(HttpMethod.Get, $"api/v1/credentials/{id}")).Status);
        Assert.Equal(200, (await bob.GotoAsync("/ui/credentials"))!.Status); // still signed in
        await bob.Context.CloseAsync();
    }

    [Fact]
    public async Task MarkupInACredentialName_IsShownAsText_NothingRuns()
    {
        const string hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>";
        var page = await ui.SignInAsync("bob", phone: true);
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };
        var consoleErrors = UiChecks.WatchConsole(page, ui.Broker.RestUrl);

        await page.FillAsync("#name", hostile);
        await page.FillAsync("#url", ui.Git.RepositoryUrl("team/app.git"));
        await page.FillAsync("#username", "bob");
        await page.FillAsync("#secret", TestSecrets.NewToken());
        await page.ClickAsync("text=Add token");
        await UiChecks.ArriveAsync(page, "/ui/credentials/cred_*");
        Assert.Equal(hostile, await page.Locator("h1").TextContentAsync());
        await page.GotoAsync("/ui/credentials");

        Assert.Equal(0, await page.Locator("main img").CountAsync());
        Assert.Equal(0, await page.Locator("script").CountAsync());
        await Assertions.Expect(page.Locator("tbody")).ToContainTextAsync(hostile);
        Assert.Equal(0, dialogs);
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "credentials-phone");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RefusedForm_ShowsTheFieldError_AndNeverRendersTheSecretBack()
    {
        var secret = TestSecrets.NewToken();
        var page = await ui.SignInAsync("bob");

        await page.FillAsync("#url", "ftp://not-a-git-host/x");
        await page.FillAsync("#username", "bob");
        await page.FillAsync("#secret", secret);
        await page.ClickAsync("text=Add token");

        await Assertions.Expect(page.Locator(".errors")).ToContainTextAsync("The URL must start with https://");
        Assert.Equal("", await page.InputValueAsync("#secret"));
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await UiChecks.AssertAccessibleAsync(page);
        await page.Context.CloseAsync();
    }
}
