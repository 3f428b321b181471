using System.Diagnostics;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// Revocation reaches a sidecar holding a cached lease within a second (design §3). This is a
/// functional requirement, not a benchmark: measured from the REST call's return, allowed 1.5 s.
/// </summary>
[Collection(DeadlineCollection.Name)]
public sealed class RevocationTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    private static readonly TimeSpan Allowed = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task DeleteCredential_LeaseCachedInSidecar_GitFailsWithinOneSecond()
    {
        var (workspace, identity, url) = await StartWithCachedLeaseAsync();
        await using (workspace)
        {
            await fixture.Admin.DeleteCredentialAsync(identity.CredentialId);

            var elapsed = await TimeUntilGitFailsAsync(workspace.Git, url);

            Assert.True(elapsed <= Allowed, $"git still worked {elapsed.TotalMilliseconds:F0} ms after the credential was deleted.");
        }
    }

    [Fact]
    public async Task DeleteWorkspace_LeaseCachedInSidecar_GitFailsWithinOneSecond()
    {
        var (workspace, _, url) = await StartWithCachedLeaseAsync();
        await using (workspace)
        {
            await fixture.Admin.DeleteWorkspaceAsync(workspace.Id);

            var elapsed = await TimeUntilGitFailsAsync(workspace.Git, url);

            Assert.True(elapsed <= Allowed, $"git still worked {elapsed.TotalMilliseconds:F0} ms after the workspace was revoked.");
        }
    }

    [Fact]
    public async Task DeleteSharedCredential_ThreeSidecars_AllStopServingAfterOneReadOfTheLog()
    {
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        var identity = await fixture.AddGitCredentialAsync(userId, server);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        var workspaces = new List<XaresWorkspace>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                workspaces.Add(await XaresWorkspace.StartAsync(fixture, userId));
                await workspaces[^1].Git.GitAsync("ls-remote", url).ShouldSucceedAsync();
            }
            Assert.True(await Poll.UntilAsync(async () => await MetricAsync("xares_revocation_streams") >= 3, TimeSpan.FromSeconds(10)),
                "the sidecars' revocation streams did not connect");
            const string DispatchReads = "xares_revocation_log_reads_total{reason=\"dispatch\"}";
            var before = await MetricAsync(DispatchReads);

            await fixture.Admin.DeleteCredentialAsync(identity.CredentialId);
            foreach (var workspace in workspaces)
            {
                await TimeUntilGitFailsAsync(workspace.Git, url);
            }

            // One commit woke the process's one log reader once; it told every stream from memory.
            Assert.Equal(1, await MetricAsync(DispatchReads) - before);
        }
        finally
        {
            foreach (var workspace in workspaces)
            {
                await workspace.DisposeAsync();
            }
        }
    }

    /// <summary>A sample of the broker's /metrics, e.g. <c>xares_revocation_streams</c>; 0 when absent.</summary>
    private async Task<double> MetricAsync(string sample)
    {
        using var client = new HttpClient();
        var line = (await client.GetStringAsync($"{fixture.Broker.RestUrl}/metrics")).Split('\n').SingleOrDefault(l => l.StartsWith(sample + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<(XaresWorkspace Workspace, GitIdentity Identity, string Url)> StartWithCachedLeaseAsync()
    {
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        var identity = await fixture.AddGitCredentialAsync(userId, server);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        var workspace = await XaresWorkspace.StartAsync(fixture, userId);
        // The first call puts the lease in the sidecar's cache; the second is served from it.
        await workspace.Git.GitAsync("ls-remote", url).ShouldSucceedAsync();
        await workspace.Git.GitAsync("ls-remote", url).ShouldSucceedAsync();
        return (workspace, identity, url);
    }

    private static async Task<TimeSpan> TimeUntilGitFailsAsync(GitWorkspace git, string url)
    {
        var stopwatch = Stopwatch.StartNew();
        CommandResult last;
        do
        {
            last = await git.GitAsync("ls-remote", url);
            if (!last.Succeeded)
            {
                return stopwatch.Elapsed;
            }
        }
        while (stopwatch.Elapsed < GiveUpAfter);

        Assert.Fail($"git still succeeded {GiveUpAfter.TotalSeconds} s after revocation:\n{last}");
        return stopwatch.Elapsed;
    }
}
