using Microsoft.Data.Sqlite;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// Retention of ended state in the published broker: a workspace clones through the helper and
/// sidecar, is deleted, and its state is aged past `--ended-retention-days` while the broker is
/// stopped (every stored time moved back, as days passing would); the restarted broker deletes
/// it at start, says so in its log and metrics, keeps the audit trail whole, and a new workspace
/// clones as before.
/// </summary>
public sealed class RetentionTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    private static readonly TimeSpan Aged = TimeSpan.FromDays(9);

    [Fact]
    public async Task Restart_AfterEndedStateAged_DeletesItAndANewWorkspaceClones()
    {
        await fixture.EnsureBrokerRunningAsync();
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        await fixture.AddGitCredentialAsync(userId, server);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        string oldWorkspace;
        await using (var workspace = await XaresWorkspace.StartAsync(fixture, userId))
        {
            await workspace.Git.GitAsync("clone", url, "old").ShouldSucceedAsync();
            oldWorkspace = workspace.Id;
        }
        await fixture.Admin.DeleteWorkspaceAsync(oldWorkspace);
        var oldLeases = await LeaseIdsAsync(oldWorkspace);
        Assert.NotEmpty(oldLeases);

        await fixture.Broker.KillAsync();
        AgeEndedState(Path.Combine(fixture.Broker.DataDirectory, "xares.db"));
        await fixture.Broker.RestartAsync();

        Assert.True(await Poll.UntilAsync(async () => (await LeaseIdsAsync(oldWorkspace)).Count == 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)),
            "Waited 30 s for the aged leases to be deleted.");
        Assert.Contains("Retention deleted ended state", fixture.Broker.LogTail(200), StringComparison.Ordinal);
        var metrics = await new HttpClient().GetStringAsync(new Uri(new Uri(fixture.Broker.RestUrl), "/metrics"));
        Assert.Matches(@"xares_ended_state_pruned_total\{table=""leases""\} [1-9]", metrics);
        Assert.True((await fixture.Admin.VerifyAuditAsync()).GetProperty("ok").GetBoolean());
        Assert.Contains(await fixture.Admin.QueryAuditAsync(workspaceId: oldWorkspace, action: "lease.issue"),
            record => oldLeases.Contains(record.GetProperty("leaseId").GetString()!));

        await using var next = await XaresWorkspace.StartAsync(fixture, userId);
        await next.Git.GitAsync("clone", url, "new").ShouldSucceedAsync();
    }

    private async Task<List<string>> LeaseIdsAsync(string workspaceId) =>
        (await fixture.Admin.ListLeasesAsync(workspaceId, includeEnded: true)).Select(AdminClient.IdOf).ToList();

    /// <summary>Moves every stored time of the ended-state tables back by <see cref="Aged"/>.</summary>
    private static void AgeEndedState(string databaseFile)
    {
        var shift = (long)Aged.TotalMilliseconds;
        using var connection = new SqliteConnection($"Data Source={databaseFile};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE leases SET issued_at = issued_at - {shift}, expires_at = expires_at - {shift}, revoked_at = revoked_at - {shift};
            UPDATE sessions SET created_at = created_at - {shift}, expires_at = expires_at - {shift}, revoked_at = revoked_at - {shift};
            UPDATE session_tokens SET created_at = created_at - {shift}, expires_at = expires_at - {shift}, superseded_at = superseded_at - {shift};
            UPDATE bootstrap_tokens SET created_at = created_at - {shift}, expires_at = expires_at - {shift}, used_at = used_at - {shift};
            UPDATE revocations SET created_at = created_at - {shift};
            """;
        command.ExecuteNonQuery();
    }
}
