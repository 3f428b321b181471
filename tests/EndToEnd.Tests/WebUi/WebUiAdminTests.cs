using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// The admin pages in a real browser, signed in as alice (admin by the provider's group claim):
/// an API key created and shown once that works over REST until revoked in the UI; GitHub Apps and
/// OAuth providers deleted after confirmation; a flag acknowledged; audit verify; credential
/// health; and bob (no admin claim) answered 404 everywhere. Every page: strict CSP, axe-core.
/// </summary>
public sealed class WebUiAdminTests(WebUiFixture ui) : IClassFixture<WebUiFixture>
{
    private static readonly string[] AdminPages =
        ["/ui/admin/api-keys", "/ui/admin/api-keys/new", "/ui/admin/apps", "/ui/admin/flags", "/ui/admin/audit", "/ui/admin/health"];

    [Fact]
    public async Task ApiKey_CreatedInTheUi_IsShownOnce_WorksOverRest_AndOnceRevokedInTheUi_IsRefused()
    {
        var page = await ui.SignInAsync("alice");
        var consoleErrors = UiChecks.WatchConsole(page, ui.Broker.RestUrl);
        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/admin/api-keys"));
        await page.ClickAsync("text=New API key…");
        await UiChecks.ArriveAsync(page, "/ui/admin/api-keys/new");
        await UiChecks.AssertAccessibleAsync(page);
        await page.FillAsync("#name", "ci deploy");
        await page.CheckAsync("#scope-users-read");
        await page.FillAsync("#days", "30");

        var answer = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("button:text('Create key')"),
            r => r.Request.Method == "POST" && r.Url.EndsWith("/ui/admin/api-keys/new", StringComparison.Ordinal));
        Assert.Contains("no-store", answer.Headers.GetValueOrDefault("cache-control"), StringComparison.Ordinal);
        UiChecks.AssertStrictCsp(answer);
        await Assertions.Expect(page.Locator("main h1")).ToHaveTextAsync("API key created");
        var key = await page.InputValueAsync("#new-key");
        Assert.StartsWith("xar_", key, StringComparison.Ordinal);
        Assert.DoesNotContain(key, page.Url, StringComparison.Ordinal);
        await UiChecks.AssertAccessibleAsync(page);

        // The key works over REST with the scope it was given (GET /api/v1/users needs users:read).
        using (var client = new AdminClient(ui.Broker.RestUrl, key))
        {
            var users = AdminClient.ItemsOf(await client.SendAsync(HttpMethod.Get, "api/v1/users"));
            Assert.Contains(users, u => AdminClient.IdOf(u) == ui.AliceId);
        }

        // A reload posts the same form again: it creates nothing and shows no key.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("main h1")).ToHaveTextAsync("This form was already sent");
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);
        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/admin/api-keys"));
        var row = page.Locator("tbody tr", new PageLocatorOptions { HasText = "ci deploy" });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row).ToContainTextAsync("users:read");
        await Assertions.Expect(row).ToContainTextAsync("active");
        Assert.DoesNotContain("never", await row.Locator("td").Nth(6).TextContentAsync(), StringComparison.Ordinal); // last used: by the REST call
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);
        try
        {
            await page.GoBackAsync(); // to the answer page: no-store, so never shown from a cache
        }
        catch (PlaywrightException)
        {
            // Chromium may refuse to re-post on its own (ERR_CACHE_MISS): nothing shown then either.
        }
        Assert.DoesNotContain(key, await SettledContentAsync(page), StringComparison.Ordinal);

        await page.GotoAsync("/ui/admin/api-keys");
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "admin-api-keys");
        var cookies = string.Join(";", (await page.Context.CookiesAsync()).Select(c => c.Name + "=" + c.Value));
        Assert.DoesNotContain(key, cookies, StringComparison.Ordinal);

        var created = Assert.Single(await ui.Admin.QueryAuditAsync(action: "apikey.create"),
            r => r.GetProperty("detail").GetString()!.Contains("users:read", StringComparison.Ordinal) && r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");
        var keyId = created.GetProperty("detail").GetString()!.Split(' ')[1];

        await row.Locator("a", new LocatorLocatorOptions { HasText = "Revoke" }).ClickAsync();
        await UiChecks.ArriveAsync(page, $"/ui/admin/api-keys/{keyId}/revoke");
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "admin-api-key-revoke");
        await page.ClickAsync("button:text('Revoke')");
        await UiChecks.ArriveAsync(page, "/ui/admin/api-keys");
        await Assertions.Expect(page.Locator("tbody tr", new PageLocatorOptions { HasText = "ci deploy" })).ToContainTextAsync("revoked");

        using (var revoked = new AdminClient(ui.Broker.RestUrl, key))
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => revoked.SendAsync(HttpMethod.Get, "api/v1/users"));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        Assert.Contains(await ui.Admin.QueryAuditAsync(action: "apikey.revoke"),
            r => r.GetProperty("detail").GetString() == $"key {keyId}" && r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task NonAdmin_EveryAdminPage_Answers404_AndAPostWithHisOwnToken_ChangesNothing()
    {
        var keyId = AdminClient.IdOf(await ui.Admin.SendAsync(HttpMethod.Post, "api/v1/api-keys", new { name = "bob must not revoke", scopes = new[] { "users:read" } }));
        var bob = await ui.SignInAsync("bob");

        foreach (var path in AdminPages.Append($"/ui/admin/api-keys/{keyId}/revoke"))
        {
            Assert.True((await bob.GotoAsync(path))!.Status == 404, path);
        }
        await bob.GotoAsync("/ui/credentials");
        Assert.Equal(0, await bob.Locator("nav a[href^='/ui/admin']").CountAsync());
        var antiforgery = await bob.Locator("form.form input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        var token = $"__RequestVerificationToken={Uri.EscapeDataString(antiforgery!)}";

        Assert.Equal(404, (await UiChecks.PostWithoutTokenAsync(bob.Context, $"/ui/admin/api-keys/{keyId}/revoke", token)).Status);
        Assert.Equal(404, (await UiChecks.PostWithoutTokenAsync(bob.Context, "/ui/admin/api-keys/new", token + "&Form.Name=bobs&Form.Scopes=admin")).Status);
        var keys = AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, "api/v1/api-keys?limit=200"));
        Assert.DoesNotContain(keys, k => k.GetProperty("name").GetString() == "bobs");
        Assert.Contains(keys, k => AdminClient.IdOf(k) == keyId && k.GetProperty("revokedAt").ValueKind == JsonValueKind.Null);
        await bob.Context.CloseAsync();
    }

    [Fact]
    public async Task AdminPosts_WithoutTheAntiforgeryToken_AreRefused_AndChangeNothing()
    {
        var keyId = AdminClient.IdOf(await ui.Admin.SendAsync(HttpMethod.Post, "api/v1/api-keys", new { name = "kept", scopes = new[] { "users:read" } }));
        var (flagId, _) = await RaiseFlagAsync("quiet flag");
        var page = await ui.SignInAsync("alice");
        await page.GotoAsync("/ui/admin/api-keys/new");
        var formId = await page.Locator("input[name=FormId]").GetAttributeAsync("value");

        Assert.Equal(400, (await UiChecks.PostWithoutTokenAsync(page.Context, $"/ui/admin/api-keys/{keyId}/revoke")).Status);
        Assert.Equal(400, (await UiChecks.PostWithoutTokenAsync(page.Context, "/ui/admin/api-keys/new",
            $"FormId={Uri.EscapeDataString(formId!)}&Form.Name=forged&Form.Scopes=admin&Form.ExpiresInDays=30")).Status);
        Assert.Equal(400, (await UiChecks.PostWithoutTokenAsync(page.Context, "/ui/admin/flags?handler=Acknowledge", $"id={flagId}")).Status);
        Assert.Equal(400, (await UiChecks.PostWithoutTokenAsync(page.Context, "/ui/admin/audit?handler=Verify")).Status);

        var keys = AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, "api/v1/api-keys?limit=200"));
        Assert.DoesNotContain(keys, k => k.GetProperty("name").GetString() == "forged");
        Assert.Contains(keys, k => AdminClient.IdOf(k) == keyId && k.GetProperty("revokedAt").ValueKind == JsonValueKind.Null);
        Assert.Equal(JsonValueKind.Null, (await FlagAsync(flagId)).GetProperty("acknowledgedAt").ValueKind);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Flag_AcknowledgedInTheUi_IsAcknowledgedOverRest_ItsDetailShownAsText()
    {
        const string hostile = "<img src=x onerror=alert(1)> 25 failed authentications";
        var (flagId, userId) = await RaiseFlagAsync(hostile);
        var page = await ui.SignInAsync("alice");
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };

        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/admin/flags"));
        var open = page.Locator("section[aria-labelledby=open-heading] tbody tr", new PageLocatorOptions { HasText = flagId });
        await Assertions.Expect(open).ToContainTextAsync(hostile);
        Assert.Equal(0, await page.Locator("main img").CountAsync());
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "admin-flags");

        await open.Locator("button:text('Acknowledge')").ClickAsync();
        await UiChecks.ArriveAsync(page, "/ui/admin/flags");
        var acknowledged = page.Locator("section[aria-labelledby=acknowledged-heading] tbody tr", new PageLocatorOptions { HasText = flagId });
        await Assertions.Expect(acknowledged).ToContainTextAsync($"by web-ui:{ui.AliceId}");

        var flag = await FlagAsync(flagId, userId);
        Assert.Equal($"web-ui:{ui.AliceId}", flag.GetProperty("acknowledgedBy").GetString());
        Assert.Contains(await ui.Admin.QueryAuditAsync(action: "audit.flag.ack"),
            r => r.GetProperty("detail").GetString()!.Contains(flagId, StringComparison.Ordinal) && r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");
        Assert.Equal(0, dialogs);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AuditPage_VerifyShowsTheChainIntact_AndTheKeyVersions()
    {
        var page = await ui.SignInAsync("alice", phone: true);
        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/admin/audit"));
        await Assertions.Expect(page.Locator("tbody tr").First).ToContainTextAsync("current");
        await UiChecks.AssertAccessibleAsync(page);

        await page.ClickAsync("button:text('Verify now')");
        await Assertions.Expect(page.Locator("#verify-result")).ToContainTextAsync("Chain intact");
        Assert.Equal(1, await page.Locator("progress#rewrap").CountAsync());
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "admin-audit-phone");
        Assert.True((await ui.Admin.VerifyAuditAsync()).GetProperty("ok").GetBoolean());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task HealthPage_CountsStates_AndListsAFailingCredentialWithItsOwner_NeverTheSecret()
    {
        var wrong = TestSecrets.NewToken();
        ui.Git.AddAccount(new Xares.DevGitServer.GitAccount("carol-health", TestSecrets.NewToken(), null));
        var id = AdminClient.IdOf(await ui.Admin.CreateGitCredentialAsync(ui.BobId, ui.Git.RepositoryUrl("team/app.git"), "carol-health", wrong));
        var tested = await ui.Admin.SendAsync(HttpMethod.Post, $"api/v1/credentials/{id}/test");
        Assert.NotEqual("ok", tested.GetProperty("status").GetString());
        var page = await ui.SignInAsync("alice");

        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/admin/health"));
        var row = page.Locator("tbody tr", new PageLocatorOptions { HasText = id });
        await Assertions.Expect(row).ToContainTextAsync("Bob Builder");
        await Assertions.Expect(row).ToContainTextAsync("git · generic");
        var errors = await page.Locator(".count", new PageLocatorOptions { HasText = "error" }).Locator("dd").TextContentAsync();
        Assert.True(long.Parse(errors!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.DoesNotContain(wrong, await page.ContentAsync(), StringComparison.Ordinal);
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "admin-health");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AppsPage_ListsHintsOnly_AndDeletesAGitHubAppAndAnOAuthProviderAfterConfirmation()
    {
        using var rsa = RSA.Create(2048);
        var port = Random.Shared.Next(20_000, 60_000);
        var appId = AdminClient.IdOf(await ui.Admin.SendAsync(HttpMethod.Post, "api/v1/github-apps", new
        {
            name = "ui bot", appId = 4242, privateKey = rsa.ExportRSAPrivateKeyPem(), apiUrl = $"http://127.0.0.1:{port}", gitUrl = $"http://127.0.0.1:{port}",
        }));
        var clientSecret = TestSecrets.NewToken();
        var providerId = AdminClient.IdOf(await ui.Admin.SendAsync(HttpMethod.Post, "api/v1/oauth-providers", new
        {
            name = "ui-forge", kind = "generic", tokenUrl = $"http://127.0.0.1:{port + 1}/token", clientId = "xares-ui", clientSecret,
            gitUrl = $"http://127.0.0.1:{port + 1}",
        }));
        var page = await ui.SignInAsync("alice");

        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/admin/apps"));
        await Assertions.Expect(page.Locator("tbody tr", new PageLocatorOptions { HasText = appId })).ToContainTextAsync("4242");
        await Assertions.Expect(page.Locator("tbody tr", new PageLocatorOptions { HasText = providerId })).ToContainTextAsync(clientSecret[^4..]);
        var html = await page.ContentAsync();
        Assert.DoesNotContain(clientSecret, html, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", html, StringComparison.Ordinal);
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "admin-apps");

        await page.Locator("tbody tr", new PageLocatorOptions { HasText = appId }).Locator("a", new LocatorLocatorOptions { HasText = "Delete" }).ClickAsync();
        await UiChecks.ArriveAsync(page, $"/ui/admin/github-apps/{appId}/delete");
        await UiChecks.AssertAccessibleAsync(page);
        await page.ClickAsync("button:text('Delete')");
        await UiChecks.ArriveAsync(page, "/ui/admin/apps");
        await page.Locator("tbody tr", new PageLocatorOptions { HasText = providerId }).Locator("a", new LocatorLocatorOptions { HasText = "Delete" }).ClickAsync();
        await UiChecks.ArriveAsync(page, $"/ui/admin/oauth-providers/{providerId}/delete");
        await UiChecks.AssertAccessibleAsync(page);
        // While a connection uses the provider it stays, as over REST (409), and the page says why.
        var connectionId = "conn_ui" + Guid.NewGuid().ToString("N")[..12];
        ExecuteSql("INSERT INTO oauth_connections (id, provider_id, user_id, status, created_at) VALUES ($id, $provider, $user, 'denied', $at)",
            ("$id", connectionId), ("$provider", providerId), ("$user", ui.BobId), ("$at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var refused = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("button:text('Delete')"), r => r.Request.Method == "POST");
        Assert.Equal(409, refused.Status);
        await Assertions.Expect(page.Locator("p.notice.bad")).ToContainTextAsync(connectionId);
        await UiChecks.AssertAccessibleAsync(page);
        ExecuteSql("DELETE FROM oauth_connections WHERE id = $id", ("$id", connectionId));
        await page.ClickAsync("button:text('Delete')");
        await UiChecks.ArriveAsync(page, "/ui/admin/apps");

        foreach (var path in new[] { $"api/v1/github-apps/{appId}", $"api/v1/oauth-providers/{providerId}" })
        {
            var gone = await Assert.ThrowsAsync<HttpRequestException>(() => ui.Admin.SendAsync(HttpMethod.Get, path));
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        Assert.Contains(await ui.Admin.QueryAuditAsync(action: "github_app.delete"), r => r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");
        Assert.Contains(await ui.Admin.QueryAuditAsync(action: "oauth_provider.delete"), r => r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");
        await page.Context.CloseAsync();
    }

    /// <summary>The page's HTML once it has stopped navigating (going back may re-post, or land on the browser's error page).</summary>
    private static async Task<string> SettledContentAsync(IPage page)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await page.WaitForLoadStateAsync(LoadState.Load);
                return await page.ContentAsync();
            }
            catch (PlaywrightException) when (attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>
    /// A flag as the detector stores one, about a user made for it, pinned to that user's creation
    /// record (a record no scan raises a flag for). Raising a real one needs minutes of traffic or
    /// throttles the test client's address, which the other tests share.
    /// </summary>
    private async Task<(string FlagId, string UserId)> RaiseFlagAsync(string detail)
    {
        var userId = await ui.Admin.CreateUserAsync("flagged " + Guid.NewGuid().ToString("N")[..8]);
        var sequence = Assert.Single(await ui.Admin.QueryAuditAsync(userId: userId, action: "user.create")).GetProperty("sequence").GetInt64();
        var flagId = "flag_ui" + Guid.NewGuid().ToString("N")[..12];
        ExecuteSql("""
            INSERT INTO audit_flags (seq, id, kind, raised_at, user_id, workspace_id, credential_id, remote_address, detail, acknowledged_at, acknowledged_by)
            VALUES ($seq, $id, 'auth_failures', $at, $user, NULL, NULL, '203.0.113.9', $detail, NULL, NULL)
            """,
            ("$seq", sequence), ("$id", flagId), ("$at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), ("$user", userId), ("$detail", detail));
        return (flagId, userId);
    }

    /// <summary>One statement on the broker's SQLite database, beside the running broker (which the statement's rows then serve).</summary>
    private void ExecuteSql(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(ui.Broker.DataDirectory, "xares.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        command.ExecuteNonQuery();
    }

    private async Task<JsonElement> FlagAsync(string flagId, string? userId = null) =>
        AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, "api/v1/audit/flags?limit=200" + (userId is null ? "" : $"&userId={userId}")))
            .Single(f => AdminClient.IdOf(f) == flagId);
}
