using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using Xares.EndToEnd.Tests.Connections;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// The Connections page in a real browser against a real OAuth provider (npm's oidc-provider, the
/// same server people sign in with, as the "xares-connect" client): connect through the
/// authorization code grant with PKCE, see it active, get git access through a workspace with the
/// connection's token, reconnect, disconnect (revoked upstream); and the refusals: a callback
/// started by another session, a replayed callback, access_denied.
/// </summary>
public sealed class WebUiConnectionsTests(WebUiFixture ui) : IClassFixture<WebUiFixture>
{
    private const string Provider = "sso-git";
    private static readonly SemaphoreSlim Registered = new(1, 1);
    private static string? s_providerId;

    [Fact]
    public async Task Connect_Active_TokenServesAWorkspace_Reconnect_Disconnect_CodeNeverInHtmlOrLog()
    {
        await RegisterProviderAsync();
        var page = await ui.SignInAsync("alice");
        var consoleErrors = UiChecks.WatchConsole(page, ui.Broker.RestUrl);
        var callbacks = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/ui/connections/callback", StringComparison.Ordinal))
            {
                lock (callbacks)
                {
                    callbacks.Add(request.Url);
                }
            }
        };

        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/connections"));
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("You have no connections yet.");
        await page.ClickAsync($"button:text('Connect {Provider}')");
        // alice is signed in at the provider already: it approves and sends her straight back.
        await UiChecks.ArriveAsync(page, "/ui/connections");
        var row = page.Locator("tbody tr", new PageLocatorOptions { HasText = Provider });
        await Assertions.Expect(row).ToContainTextAsync("active");
        await Assertions.Expect(row).ToContainTextAsync($"127.0.0.1:{new Uri(ui.Git.BaseUrl).Port} as oauth2");
        var callback = Assert.Single(callbacks);
        var code = QueryValue(callback, "code");
        var html = await page.ContentAsync();
        Assert.DoesNotContain(code, html, StringComparison.Ordinal);
        Assert.DoesNotContain(code, page.Url, StringComparison.Ordinal);
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "connections");

        var connection = Assert.Single(AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{ui.AliceId}/connections")));
        var connectionId = AdminClient.IdOf(connection);
        Assert.Equal("active", connection.GetProperty("status").GetString());
        Assert.True(connection.GetProperty("hasRefreshToken").GetBoolean());
        var audit = await ui.Admin.QueryAuditAsync(credentialId: connectionId, action: "connection.connect");
        Assert.Contains(audit, r => r.GetProperty("outcome").GetString() == "success" && r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");

        // The token serves git in alice's workspace exactly as a device-flow connection's does.
        var name = "conn-ws";
        var workspace = await ui.Admin.CreateWorkspaceAsync(ui.AliceId, name);
        await using (var sidecar = await SidecarProcess.StartAsync(ui.Directory, ui.Broker.GrpcUrl, workspace.BootstrapToken, name + "-sc"))
        {
            var git = GitWorkspace.Create(ui.Directory, sidecar.SocketPath, name);
            await git.InstallXaresAsync().ShouldSucceedAsync();
            var fill = await OAuthConnectionTests.FillAsync(git, ui.Git.BaseUrl);
            Assert.Equal("oauth2", fill.Username);
            Assert.True(await IsActiveAsync(fill.Password), "the connection's access token is not active at the provider");
            Assert.DoesNotContain(fill.Password, html, StringComparison.Ordinal);

            // The replayed callback is refused and changes nothing.
            var replay = await page.GotoAsync(callback);
            Assert.Equal(400, replay!.Status);
            await Assertions.Expect(page.Locator("main")).ToContainTextAsync("used already");
            Assert.DoesNotContain(code, await page.ContentAsync(), StringComparison.Ordinal);

            // Reconnect: the provider stopped taking the refresh token (the refresher marks it so); the same grant replaces the tokens.
            MarkReconnectRequired(connectionId);
            await page.GotoAsync("/ui/connections");
            await Assertions.Expect(page.Locator("p.notice.bad")).ToContainTextAsync("needs reconnecting");
            await UiChecks.AssertAccessibleAsync(page);
            await page.ClickAsync($"button[aria-label='Reconnect {Provider}']");
            await UiChecks.ArriveAsync(page, "/ui/connections");
            await Assertions.Expect(row).ToContainTextAsync("active");
            await Assertions.Expect(page.Locator("p.notice.bad")).ToHaveCountAsync(0);
            var reconnected = await ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}");
            Assert.Equal("active", reconnected.GetProperty("status").GetString());
            Assert.Contains(await ui.Admin.QueryAuditAsync(credentialId: connectionId, action: "connection.connect"),
                r => r.GetProperty("detail").GetString()!.Contains("reconnected, tokens replaced (version 2)", StringComparison.Ordinal));
            // The old token's leases ended with the reconnect (the provider revoked that token when it granted again): the next fill gets the new one.
            (string Username, string Password) second = ("", "");
            Assert.True(await Poll.UntilAsync(async () => (second = await OAuthConnectionTests.FillAsync(git, ui.Git.BaseUrl)).Password != fill.Password,
                TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(300)), "the workspace still gets the replaced token after reconnecting");
            Assert.True(await IsActiveAsync(second.Password), "the reconnected token is not active at the provider");

            // Disconnect, after a confirmation page: the tokens are revoked at the provider (RFC 7009).
            await row.Locator("text=Disconnect…").ClickAsync();
            await UiChecks.ArriveAsync(page, $"/ui/connections/{connectionId}/disconnect");
            await UiChecks.AssertAccessibleAsync(page);
            await page.ClickAsync("button:text('Disconnect')");
            await UiChecks.ArriveAsync(page, "/ui/connections");
            await Assertions.Expect(page.Locator("main")).ToContainTextAsync("You have no connections yet.");
            var gone = await Assert.ThrowsAsync<HttpRequestException>(() => ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}"));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
            Assert.True(await Poll.UntilAsync(async () => !await IsActiveAsync(second.Password), TimeSpan.FromSeconds(15)),
                "the access token is still active at the provider after disconnect");
            Assert.Contains(await ui.Admin.QueryAuditAsync(credentialId: connectionId, action: "connection.disconnect"),
                r => r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");

            var log = await File.ReadAllTextAsync(ui.Broker.LogFile);
            foreach (var secret in new[] { code, fill.Password, second.Password })
            {
                Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
            }
            Assert.DoesNotContain(fill.Password, await ui.Admin.GetRawAsync($"api/v1/audit?userId={ui.AliceId}&limit=1000"), StringComparison.Ordinal);
        }
        // The replay's 400 is the one expected console entry.
        var unexpected = consoleErrors.Where(e => !e.StartsWith(callback + ":", StringComparison.Ordinal)).ToList();
        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task CallbackStartedByBob_OpenedInAlicesSession_IsRefused_AndAttachesNothing()
    {
        await RegisterProviderAsync();
        var bob = await ui.SignInAsync("bob");
        // bob's browser never reaches the callback: the link is what an attacker would send alice.
        var bobsCallback = await CallbackOfAsync(bob.Context, await StartGrantAsync(bob));
        Assert.Contains("code=", bobsCallback, StringComparison.Ordinal);

        var alice = await ui.SignInAsync("alice");
        var alicesBefore = await ConnectionIdsAsync(ui.AliceId);
        var refused = await alice.GotoAsync(bobsCallback);
        Assert.Equal(400, refused!.Status);
        await Assertions.Expect(alice.Locator("main")).ToContainTextAsync("started by another sign-in");
        Assert.DoesNotContain(QueryValue(bobsCallback, "code"), await alice.ContentAsync(), StringComparison.Ordinal);
        await UiChecks.AssertAccessibleAsync(alice);

        Assert.Equal(alicesBefore, await ConnectionIdsAsync(ui.AliceId));
        Assert.Empty(AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{ui.BobId}/connections")));
        Assert.Contains(await ui.Admin.QueryAuditAsync(userId: ui.AliceId, action: "connection.connect"),
            r => r.GetProperty("outcome").GetString() == "denied" && r.GetProperty("detail").GetString()!.Contains("another web UI session", StringComparison.Ordinal));
        // The state is used up: bob cannot finish with it either.
        Assert.Equal(400, (await bob.GotoAsync(bobsCallback))!.Status);
        Assert.Empty(AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{ui.BobId}/connections")));
        await bob.Context.CloseAsync();
        await alice.Context.CloseAsync();
    }

    [Fact]
    public async Task ProviderAnswersAccessDenied_EndsOnAClearPage_NothingStored()
    {
        await RegisterProviderAsync();
        var page = await ui.SignInAsync("bob");
        // Stand in for the person clicking "deny" at the provider: the grant starts, and the provider's answer is access_denied.
        var authorize = await StartGrantAsync(page);
        Assert.StartsWith(ui.Sso.Issuer + "/auth?", authorize, StringComparison.Ordinal);
        Assert.Equal("S256", QueryValue(authorize, "code_challenge_method"));
        Assert.Equal(43, QueryValue(authorize, "code_challenge").Length);
        Assert.Equal(ui.Broker.RestUrl + "/ui/connections/callback", QueryValue(authorize, "redirect_uri"));
        Assert.DoesNotContain("code_verifier", authorize, StringComparison.Ordinal);

        var denied = await page.GotoAsync($"/ui/connections/callback?error=access_denied&state={Uri.EscapeDataString(QueryValue(authorize, "state"))}");
        Assert.Equal(400, denied!.Status);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("Access was not granted");
        Assert.Empty(AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{ui.BobId}/connections")));
        Assert.Contains(await ui.Admin.QueryAuditAsync(userId: ui.BobId, action: "connection.connect"), r => r.GetProperty("outcome").GetString() == "denied");
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "connection-failed");

        // A made-up state, and no session at all, are refused too.
        Assert.Equal(400, (await page.GotoAsync("/ui/connections/callback?code=abc&state=made-up"))!.Status);
        var anonymous = await (await ui.NewContextAsync()).NewPageAsync();
        var signedOut = await anonymous.GotoAsync("/ui/connections/callback?code=abc&state=made-up");
        Assert.Equal(400, signedOut!.Status);
        Assert.StartsWith(ui.Broker.RestUrl, anonymous.Url, StringComparison.Ordinal); // not sent to sign in with the code
        await anonymous.Context.CloseAsync();
        await page.Context.CloseAsync();
    }

    private async Task RegisterProviderAsync()
    {
        await Registered.WaitAsync();
        try
        {
            if (s_providerId is not null) // one fixture (one broker) per class
            {
                return;
            }
            s_providerId = AdminClient.IdOf(await ui.Admin.SendAsync(HttpMethod.Post, "api/v1/oauth-providers", new
            {
                name = Provider, kind = "generic", authorizeUrl = ui.Sso.Issuer + "/auth", tokenUrl = ui.Sso.Issuer + "/token",
                revocationUrl = ui.Sso.Issuer + "/token/revocation", clientId = SsoProvider.ConnectClientId, clientSecret = ui.Sso.ConnectClientSecret,
                scopes = new[] { "openid" }, gitUrl = ui.Git.BaseUrl, gitUsername = "oauth2",
            }));
        }
        finally
        {
            Registered.Release();
        }
    }

    /// <summary>Opens Connections and starts the grant; the provider's authorize URL, the browser not sent there.</summary>
    private async Task<string> StartGrantAsync(IPage page)
    {
        await page.GotoAsync("/ui/connections");
        return await ConnectGrant.StartAsync(page, Provider);
    }

    private Task<string> CallbackOfAsync(IBrowserContext context, string authorize) => ConnectGrant.CallbackOfAsync(context, authorize, ui.Broker.RestUrl);

    private async Task<List<string>> ConnectionIdsAsync(string userId) =>
        AdminClient.ItemsOf(await ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{userId}/connections")).Select(AdminClient.IdOf).Order(StringComparer.Ordinal).ToList();

    /// <summary>RFC 7662 introspection at the provider, as the connect client.</summary>
    private async Task<bool> IsActiveAsync(string accessToken)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, ui.Sso.Issuer + "/token/introspection")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = accessToken }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{SsoProvider.ConnectClientId}:{ui.Sso.ConnectClientSecret}")));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("active").GetBoolean();
    }

    /// <summary>What the refresher writes when the provider answers invalid_grant (ConnectionStore.MarkReconnectRequired).</summary>
    private void MarkReconnectRequired(string connectionId)
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(ui.Broker.DataDirectory, "xares.db")};Pooling=false");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "UPDATE oauth_connections SET status = 'reconnect_required', last_error = 'invalid_grant (test)' WHERE id = $id AND status = 'active'";
        command.Parameters.AddWithValue("$id", connectionId);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    private static string QueryValue(string url, string name) =>
        new Uri(url).Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).Where(p => p[0] == name).Select(p => Uri.UnescapeDataString(p[1])).Single();
}
