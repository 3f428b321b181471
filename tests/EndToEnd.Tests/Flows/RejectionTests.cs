using System.Text.Json;
using Xares.DevGitServer;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>git's <c>erase</c> after a 401 travels helper → sidecar → broker and is audited (rule g).</summary>
public sealed class RejectionTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    [Fact]
    public async Task LsRemote_WrongTokenStored_FailsAndRejectionIsAudited()
    {
        var started = DateTime.UtcNow;
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        var wrongSecret = TestSecrets.NewToken();
        var identity = await fixture.AddGitCredentialAsync(userId, server, storedSecret: wrongSecret);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId);

        await workspace.Git.GitAsync("ls-remote", url).ShouldFailAsync();

        Assert.Contains(server.AuthAttempts, a => a is { Outcome: AuthOutcome.WrongCredentials } && a.Username == identity.Username);
        IReadOnlyList<JsonElement> audit = [];
        var audited = await Poll.UntilAsync(async () =>
        {
            audit = await fixture.Admin.QueryAuditAsync(workspaceId: workspace.Id);
            return audit.Any(IsRejection);
        }, TimeSpan.FromSeconds(5));
        Assert.True(audited, "No audit record with an action naming the rejection for the workspace:\n" + string.Join('\n', audit.Select(a => a.GetRawText())));
        Assert.DoesNotContain(wrongSecret, await fixture.Admin.GetRawAsync($"api/v1/audit?workspaceId={workspace.Id}"), StringComparison.Ordinal);
        fixture.AssertSecretOnNoDisk(wrongSecret, started);
    }

    // §6 does not name audit actions; any action mentioning a rejection counts (e.g. "git.lease.rejected").
    private static bool IsRejection(JsonElement record) =>
        record.TryGetProperty("action", out var action) && action.GetString() is { } name && name.Contains("reject", StringComparison.OrdinalIgnoreCase);
}
