using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>The sidecar keeps serving unexpired cached leases while the broker is down, and fails fast on a miss.</summary>
public sealed class BrokerOutageTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task LsRemote_BrokerKilled_CachedLeaseServesAndMissFailsFast()
    {
        await fixture.EnsureBrokerRunningAsync();
        var (workspace, cachedUrl, otherUrl) = await StartWithLeaseForFirstHostAsync();
        await using (workspace)
        {
            try
            {
                await fixture.Broker.KillAsync();

                await workspace.Git.GitAsync("ls-remote", cachedUrl).ShouldSucceedAsync();
                // A hang is the failure looked for here: cut it off well before the default timeout.
                var miss = await workspace.Git.RunAsync("git", ["ls-remote", otherUrl], timeout: TimeSpan.FromSeconds(10));
                Assert.False(miss.Succeeded, "git got a credential for an uncached host with the broker down:\n" + miss);
                Assert.True(miss.Elapsed < FailFast, $"A cache miss with the broker down took {miss.Elapsed.TotalMilliseconds:F0} ms:\n{miss}");
            }
            finally
            {
                await fixture.Broker.RestartAsync();
            }
        }
    }

    [Fact]
    public async Task LsRemote_BrokerRestarted_SidecarReconnectsAndServesNewHost()
    {
        await fixture.EnsureBrokerRunningAsync();
        var (workspace, cachedUrl, otherUrl) = await StartWithLeaseForFirstHostAsync();
        await using (workspace)
        {
            await fixture.Broker.RestartAsync();
            await workspace.Sidecar.WaitUntilConnectedAsync(SidecarProcess.ConnectTimeout);

            await workspace.Git.GitAsync("ls-remote", otherUrl).ShouldSucceedAsync();
            await workspace.Git.GitAsync("ls-remote", cachedUrl).ShouldSucceedAsync();
        }
    }

    // One user with credentials on two hosts; only the first host's lease is cached.
    private async Task<(XaresWorkspace Workspace, string CachedUrl, string OtherUrl)> StartWithLeaseForFirstHostAsync()
    {
        var userId = await fixture.CreateUserAsync();
        await fixture.AddGitCredentialAsync(userId, fixture.GitServer);
        await fixture.AddGitCredentialAsync(userId, fixture.OtherGitServer);
        var cachedUrl = fixture.GitServer.RepositoryUrl(await fixture.CreateRepositoryAsync(fixture.GitServer));
        var otherUrl = fixture.OtherGitServer.RepositoryUrl(await fixture.CreateRepositoryAsync(fixture.OtherGitServer));
        var workspace = await XaresWorkspace.StartAsync(fixture, userId);
        await workspace.Git.GitAsync("ls-remote", cachedUrl).ShouldSucceedAsync();
        return (workspace, cachedUrl, otherUrl);
    }
}
