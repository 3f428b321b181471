using Microsoft.Playwright;
using Xares.DevGitServer;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.WebUi;

/// <summary>
/// "My workspaces" and Activity in a real browser, around a real workspace: a token added and tested
/// in the UI is used by a real `git clone` through the published sidecar and git-credential-xares;
/// the lease shows on My workspaces and the fill in Activity; revoking the lease, the workspace and
/// deleting the credential in the UI reach the sidecars. And: 404 (a styled page) for another user's
/// ids, anti-forgery on the new forms, axe-core on the new pages.
/// </summary>
public sealed class WebUiWorkspacesTests(WebUiFixture ui) : IClassFixture<WebUiFixture>
{
    private static readonly TimeSpan RevocationHeard = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TokenAddedInUi_UsedByWorkspaceClone_LeaseShownAndRevoked_WorkspaceRevoked_CredentialDeleted_GitLosesAccess()
    {
        var token = TestSecrets.NewToken();
        ui.Git.AddAccount(new GitAccount("alice-ws", token, null));
        var url = ui.Git.RepositoryUrl("team/app.git");
        var page = await ui.SignInAsync("alice");
        var consoleErrors = UiChecks.WatchConsole(page, ui.Broker.RestUrl);

        var credentialId = await AddAndTestTokenAsync(page, url, token);

        var grant = await ui.Admin.CreateWorkspaceAsync(ui.AliceId, "alice laptop");
        await using var sidecar = await SidecarProcess.StartAsync(ui.Directory, ui.Broker.GrpcUrl, grant.BootstrapToken, "ws1");
        var git = GitWorkspace.Create(ui.Directory, sidecar.SocketPath, "g1");
        await git.InstallXaresAsync().ShouldSucceedAsync();
        await git.GitAsync("clone", url, "app").ShouldSucceedAsync();
        var leaseId = Assert.Single(await ui.Admin.ListLeasesAsync(grant.Id)).GetProperty("id").GetString()!;

        // My workspaces: the workspace, its live sidecar session and the clone's lease.
        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/workspaces"));
        var card = page.Locator("section.workspace", new PageLocatorOptions { HasText = grant.Id });
        await Assertions.Expect(card.Locator("h2")).ToHaveTextAsync("alice laptop");
        Assert.Equal(1, await card.Locator("table.sessions tbody tr").CountAsync());
        var leaseRow = card.Locator("table.leases tbody tr");
        await Assertions.Expect(leaseRow).ToHaveCountAsync(1);
        await Assertions.Expect(leaseRow).ToContainTextAsync("git");
        await Assertions.Expect(leaseRow).ToContainTextAsync("team app");
        await Assertions.Expect(leaseRow).ToContainTextAsync(url);
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "workspaces");

        // Activity: the fill is in my trail.
        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/activity?action=lease.issue"));
        var fill = page.Locator("tbody tr", new PageLocatorOptions { HasText = "lease.issue" }).First; // newest first: the clone's
        await Assertions.Expect(fill).ToContainTextAsync("success");
        await Assertions.Expect(fill).ToContainTextAsync("sidecar");
        await Assertions.Expect(fill).ToContainTextAsync(new Uri(url).Authority);

        // Revoke the lease: the sidecar drops it, so the next git call needs (and gets) a new lease.
        await page.GotoAsync("/ui/workspaces");
        await page.ClickAsync($"a[href='/ui/leases/{leaseId}/revoke']");
        await UiChecks.ArriveAsync(page, $"/ui/leases/{leaseId}/revoke");
        await UiChecks.AssertAccessibleAsync(page);
        await UiChecks.ScreenshotAsync(page, "revoke-lease");
        await page.ClickAsync("button:text('Revoke lease')");
        await UiChecks.ArriveAsync(page, "/ui/workspaces");
        await Assertions.Expect(page.Locator($"a[href='/ui/leases/{leaseId}/revoke']")).ToHaveCountAsync(0);
        Assert.True(await Poll.UntilAsync(async () =>
        {
            await git.GitAsync("ls-remote", url).ShouldSucceedAsync();
            return (await ui.Admin.ListLeasesAsync(grant.Id)).Any(l => l.GetProperty("id").GetString() != leaseId);
        }, RevocationHeard), "the sidecar kept serving the revoked lease");
        var revoked = (await ui.Admin.ListLeasesAsync(grant.Id, includeEnded: true)).Single(l => l.GetProperty("id").GetString() == leaseId);
        Assert.Equal("revoked", revoked.GetProperty("status").GetString());
        Assert.Contains(await ui.Admin.QueryAuditAsync(action: "lease.revoke"), r => r.GetProperty("leaseId").GetString() == leaseId
            && r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");

        // Revoke the workspace: its session and leases end, git in it loses access.
        await page.ClickAsync($"a[href='/ui/workspaces/{grant.Id}/revoke']");
        await UiChecks.ArriveAsync(page, $"/ui/workspaces/{grant.Id}/revoke");
        await UiChecks.AssertAccessibleAsync(page);
        await page.ClickAsync("button:text('Revoke workspace')");
        await UiChecks.ArriveAsync(page, "/ui/workspaces");
        await Assertions.Expect(page.Locator("table.revoked tbody")).ToContainTextAsync("alice laptop");
        await Assertions.Expect(page.Locator("section.workspace", new PageLocatorOptions { HasText = grant.Id })).ToHaveCountAsync(0);
        Assert.True(await Poll.UntilAsync(async () => !(await git.GitAsync("ls-remote", url)).Succeeded, RevocationHeard),
            "git still worked after the workspace was revoked in the UI");
        Assert.Empty(await ui.Admin.ListLeasesAsync(grant.Id));
        Assert.Contains(await ui.Admin.QueryAuditAsync(workspaceId: grant.Id, action: "workspace.revoke"),
            r => r.GetProperty("actor").GetString() == $"web-ui:{ui.AliceId}");

        // A second workspace uses the token; deleting the credential in the UI takes git's access away.
        var second = await ui.Admin.CreateWorkspaceAsync(ui.AliceId, "alice desktop");
        await using var sidecar2 = await SidecarProcess.StartAsync(ui.Directory, ui.Broker.GrpcUrl, second.BootstrapToken, "ws2");
        var git2 = GitWorkspace.Create(ui.Directory, sidecar2.SocketPath, "g2");
        await git2.InstallXaresAsync().ShouldSucceedAsync();
        await git2.GitAsync("ls-remote", url).ShouldSucceedAsync();
        await page.GotoAsync($"/ui/credentials/{credentialId}/delete");
        await page.ClickAsync("button:text('Delete')");
        await UiChecks.ArriveAsync(page, "/ui/credentials");
        Assert.True(await Poll.UntilAsync(async () => !(await git2.GitAsync("ls-remote", url)).Succeeded, RevocationHeard),
            "git still worked after the credential was deleted in the UI");

        var html = await page.ContentAsync();
        Assert.DoesNotContain(token, html, StringComparison.Ordinal);
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AnotherUsersWorkspaceAndLease_ByUrl_AnswerAStyled404_AndPostsChangeNothing()
    {
        var (grant, leaseId, sidecar) = await StartAliceWorkspaceWithLeaseAsync("alice vm", "ws3");
        await using (sidecar)
        {
            var bob = await ui.SignInAsync("bob");

            foreach (var path in new[] { $"/ui/workspaces/{grant.Id}/revoke", $"/ui/leases/{leaseId}/revoke", "/ui/workspaces/ws_nope/revoke", "/ui/no-such-page" })
            {
                var response = await bob.GotoAsync(path);
                Assert.Equal(404, response!.Status);
                UiChecks.AssertStrictCsp(response);
                await Assertions.Expect(bob.Locator("main h1")).ToHaveTextAsync("Not found");
                await Assertions.Expect(bob.Locator("nav[aria-label=Main]")).ToBeVisibleAsync(); // the UI's layout, signed in
            }
            await UiChecks.AssertAccessibleAsync(bob);
            await UiChecks.ScreenshotAsync(bob, "not-found");
            // Outside /ui, a 404 stays a problem document.
            var rest = await bob.Context.APIRequest.GetAsync("/api/v1/no-such-thing");
            Assert.Equal(404, rest.Status);
            Assert.StartsWith("application/problem+json", rest.Headers["content-type"], StringComparison.Ordinal);
            await bob.GotoAsync("/ui/workspaces");
            var content = await bob.ContentAsync();
            Assert.DoesNotContain(grant.Id, content, StringComparison.Ordinal);
            Assert.DoesNotContain(leaseId, content, StringComparison.Ordinal);

            // Even with a valid anti-forgery token of bob's own session, POSTs are answered 404.
            var antiforgery = await bob.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value");
            var body = $"__RequestVerificationToken={Uri.EscapeDataString(antiforgery!)}";
            Assert.Equal(404, (await UiChecks.PostWithoutTokenAsync(bob.Context, $"/ui/workspaces/{grant.Id}/revoke", body)).Status);
            Assert.Equal(404, (await UiChecks.PostWithoutTokenAsync(bob.Context, $"/ui/leases/{leaseId}/revoke", body)).Status);

            await AssertUntouchedAsync(grant.Id, leaseId);
            await bob.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task RevokePosts_WithoutAntiforgeryToken_AreRefusedAndChangeNothing()
    {
        var (grant, leaseId, sidecar) = await StartAliceWorkspaceWithLeaseAsync("alice ci", "ws4");
        await using (sidecar)
        {
            var alice = await ui.SignInAsync("alice");

            var workspace = await UiChecks.PostWithoutTokenAsync(alice.Context, $"/ui/workspaces/{grant.Id}/revoke");
            var lease = await UiChecks.PostWithoutTokenAsync(alice.Context, $"/ui/leases/{leaseId}/revoke");

            Assert.Equal(400, workspace.Status);
            Assert.Equal(400, lease.Status);
            Assert.Contains("Request refused", await workspace.TextAsync(), StringComparison.Ordinal); // the styled page, not a bare status
            await AssertUntouchedAsync(grant.Id, leaseId);
            await alice.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task Activity_ShowsTheFlagsAboutMe_ReadOnly()
    {
        var (workspaceId, flagged) = await RaiseFlagAsync();
        var page = await ui.SignInAsync("bob");

        UiChecks.AssertStrictCsp(await page.GotoAsync("/ui/activity"));
        var row = page.Locator("table.flags tbody tr", new PageLocatorOptions { HasText = workspaceId });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row).ToContainTextAsync(flagged);
        await Assertions.Expect(row).ToContainTextAsync("not yet");
        Assert.Equal(0, await page.Locator("section.flags form, section.flags button").CountAsync()); // read-only for users
        await UiChecks.AssertAccessibleAsync(page);
        await page.Context.CloseAsync();

        var alice = await ui.SignInAsync("alice");
        await alice.GotoAsync("/ui/activity");
        Assert.DoesNotContain(workspaceId, await alice.Locator("section.flags").TextContentAsync() ?? "", StringComparison.Ordinal);
        await alice.Context.CloseAsync();
    }

    /// <summary>
    /// Raises a flag about a new workspace of bob the way a workspace does: git rejects the stored
    /// token three times (each rejection on its own lease, rule g), so "repeated_rejections" is raised
    /// at the next scan. Returns the workspace id and the flag's kind.
    /// </summary>
    private async Task<(string WorkspaceId, string Kind)> RaiseFlagAsync()
    {
        await ui.Git.CreateRepositoryAsync("bob/app.git");
        var url = ui.Git.RepositoryUrl("bob/app.git");
        ui.Git.AddAccount(new GitAccount("bob-ws", TestSecrets.NewToken(), null));
        await ui.Admin.CreateGitCredentialAsync(ui.BobId, url, "bob-ws", TestSecrets.NewToken()); // not the token the server knows
        var grant = await ui.Admin.CreateWorkspaceAsync(ui.BobId, "bob flagged");
        await using var sidecar = await SidecarProcess.StartAsync(ui.Directory, ui.Broker.GrpcUrl, grant.BootstrapToken, "ws5");
        var git = GitWorkspace.Create(ui.Directory, sidecar.SocketPath, "ws5g");
        await git.InstallXaresAsync().ShouldSucceedAsync();
        for (var i = 0; i < 3; i++)
        {
            await git.GitAsync("ls-remote", url).ShouldFailAsync();
        }
        string? kind = null;
        Assert.True(await Poll.UntilAsync(async () =>
        {
            var flags = await ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/audit/flags?workspaceId={grant.Id}");
            kind = flags.GetProperty("items").EnumerateArray().Select(f => f.GetProperty("kind").GetString()).FirstOrDefault();
            return kind is not null;
        }, TimeSpan.FromSeconds(40)), "no flag was raised about the workspace");
        return (grant.Id, kind!);
    }

    private async Task<string> AddAndTestTokenAsync(IPage page, string url, string token)
    {
        await page.GotoAsync("/ui/credentials");
        await page.SelectOptionAsync("#kind", "git");
        await page.SelectOptionAsync("#provider", "generic");
        await page.FillAsync("#name", "team app");
        await page.FillAsync("#url", url);
        await page.FillAsync("#username", "alice-ws");
        await page.FillAsync("#secret", token);
        await page.ClickAsync("text=Add token");
        await UiChecks.ArriveAsync(page, "/ui/credentials/cred_*");
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await page.ClickAsync("text=Test now");
        await Assertions.Expect(page.Locator("p.notice")).ToContainTextAsync("Test passed");
        return id;
    }

    /// <summary>A workspace of alice with a running sidecar and one lease, issued through the real helper.</summary>
    private async Task<(WorkspaceGrant Grant, string LeaseId, SidecarProcess Sidecar)> StartAliceWorkspaceWithLeaseAsync(string name, string folder)
    {
        // A repository and credential of its own: the other tests' credentials of alice never match it.
        var username = folder + "-user";
        var token = TestSecrets.NewToken();
        await ui.Git.CreateRepositoryAsync(folder + "/app.git");
        var url = ui.Git.RepositoryUrl(folder + "/app.git");
        ui.Git.AddAccount(new GitAccount(username, token, null));
        await ui.Admin.CreateGitCredentialAsync(ui.AliceId, url, username, token);
        var grant = await ui.Admin.CreateWorkspaceAsync(ui.AliceId, name);
        var sidecar = await SidecarProcess.StartAsync(ui.Directory, ui.Broker.GrpcUrl, grant.BootstrapToken, folder);
        var git = GitWorkspace.Create(ui.Directory, sidecar.SocketPath, folder + "g");
        await git.InstallXaresAsync().ShouldSucceedAsync();
        await git.GitAsync("ls-remote", url).ShouldSucceedAsync();
        return (grant, Assert.Single(await ui.Admin.ListLeasesAsync(grant.Id)).GetProperty("id").GetString()!, sidecar);
    }

    private async Task AssertUntouchedAsync(string workspaceId, string leaseId)
    {
        Assert.Equal("active", (await ui.Admin.SendAsync(HttpMethod.Get, $"api/v1/workspaces/{workspaceId}")).GetProperty("status").GetString());
        Assert.Contains(await ui.Admin.ListLeasesAsync(workspaceId), l => l.GetProperty("id").GetString() == leaseId);
    }
}
