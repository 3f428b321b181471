using System.Text.Json;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// The sidecar keeps serving unexpired cached leases while the broker is down, and fails fast on a
/// miss; after a restart every sidecar is back, resumed from its revocation sequence.
/// </summary>
[Collection(DeadlineCollection.Name)]
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

    /// <summary>
    /// Two sidecars hold leases of three credentials. One credential is deleted just before the
    /// broker is killed (its event may or may not have been pushed), one right after the restart
    /// (before or after each sidecar is back). Every sidecar must come back, resume its stream from
    /// the sequence it had (each revocation applied exactly once: nothing replayed from the start,
    /// nothing lost) and serve neither deleted credential, while the kept one and a new host work.
    /// </summary>
    [Fact]
    public async Task LsRemote_BrokerRestarted_EverySidecarResumesAndAppliesEveryRevocation()
    {
        await fixture.EnsureBrokerRunningAsync();
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        await fixture.AddGitCredentialAsync(userId, server, "keep");
        var beforeStop = await fixture.AddGitCredentialAsync(userId, server, "gone1");
        var afterRestart = await fixture.AddGitCredentialAsync(userId, server, "gone2");
        await fixture.AddGitCredentialAsync(userId, fixture.OtherGitServer);
        var keptUrl = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server, "keep"));
        var beforeStopUrl = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server, "gone1"));
        var afterRestartUrl = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server, "gone2"));
        var newHostUrl = fixture.OtherGitServer.RepositoryUrl(await fixture.CreateRepositoryAsync(fixture.OtherGitServer));
        await using var first = await XaresWorkspace.StartAsync(fixture, userId);
        await using var second = await XaresWorkspace.StartAsync(fixture, userId);
        XaresWorkspace[] workspaces = [first, second];
        foreach (var workspace in workspaces)
        {
            foreach (var url in new[] { keptUrl, beforeStopUrl, afterRestartUrl })
            {
                await workspace.Git.GitAsync("ls-remote", url).ShouldSucceedAsync();
            }
        }

        await fixture.Admin.DeleteCredentialAsync(beforeStop.CredentialId);
        await fixture.Broker.RestartAsync();
        await fixture.Admin.DeleteCredentialAsync(afterRestart.CredentialId);

        foreach (var workspace in workspaces)
        {
            await workspace.Sidecar.WaitUntilConnectedAsync(SidecarProcess.ConnectTimeout);
            await workspace.Git.GitAsync("ls-remote", keptUrl).ShouldSucceedAsync();
            await workspace.Git.GitAsync("ls-remote", newHostUrl).ShouldSucceedAsync();
            await workspace.Git.GitAsync("ls-remote", beforeStopUrl).ShouldFailAsync();
            await workspace.Git.GitAsync("ls-remote", afterRestartUrl).ShouldFailAsync();
            // The stream, not only the revalidation, delivered both: each event once, in sequence order.
            var applied = (await AppliedCredentialRevocationsAsync(workspace.Sidecar, afterRestart.CredentialId))
                .Where(r => r.CredentialId == beforeStop.CredentialId || r.CredentialId == afterRestart.CredentialId).ToList();
            Assert.Equal([beforeStop.CredentialId, afterRestart.CredentialId], applied.Select(r => r.CredentialId));
            Assert.True(applied[0].Sequence < applied[1].Sequence, $"revocations applied out of order: {string.Join(", ", applied)}");
        }
    }

    /// <summary>The credential revocations the sidecar's log says it applied (event 303), once <paramref name="last"/> is among them.</summary>
    private static async Task<List<(string CredentialId, long Sequence)>> AppliedCredentialRevocationsAsync(SidecarProcess sidecar, string last)
    {
        List<(string CredentialId, long Sequence)> applied = [];
        var seen = await Poll.UntilAsync(async () =>
        {
            applied = [];
            foreach (var line in await File.ReadAllLinesAsync(sidecar.LogFile))
            {
                if (!line.StartsWith('{'))
                {
                    continue;
                }
                using var entry = JsonDocument.Parse(line);
                var root = entry.RootElement;
                if (root.TryGetProperty("EventId", out var id) && id.GetProperty("Id").GetInt32() == 303)
                {
                    applied.Add((root.GetProperty("CredentialId").GetString()!, root.GetProperty("RevocationSequence").GetInt64()));
                }
            }
            return applied.Any(r => r.CredentialId == last);
        }, TimeSpan.FromSeconds(10));
        Assert.True(seen, $"the sidecar never logged applying the revocation of {last}:\n{sidecar.LogTail()}");
        return applied;
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
