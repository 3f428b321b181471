using Xares.Protos.Broker.V1;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Git;
using Xares.Sidecar.Leases;
using Xares.Sidecar.Tests.Fakes;
using Kind = Xares.Protos.Broker.V1.RevocationEvent.Types.Kind;

namespace Xares.Sidecar.Tests.Revocations;

public sealed class RevocationWatcherTests
{
    private static async Task<(FakeBroker Broker, SidecarHarness Sidecar)> StartWithLeasesAsync()
    {
        var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_gh", "alice", "ghp_abc");
        broker.State.AddCredential("gitlab.com", "cred_gl", "alice", "glpat_abc");
        var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        Assert.True((await sidecar.GetAsync("github.com")).GitGet.Found);
        Assert.True((await sidecar.GetAsync("gitlab.com")).GitGet.Found);
        Assert.Equal(2, sidecar.Runtime.Cache.Count);
        return (broker, sidecar);
    }

    [Fact]
    public async Task LeaseEvent_DropsThatLeaseWithinOneSecond()
    {
        var (broker, sidecar) = await StartWithLeasesAsync();
        await using (broker)
        await using (sidecar)
        {
            var revocation = broker.State.Revoke(Kind.Lease, "lease_1");

            await Until.TrueAsync(() => sidecar.Runtime.Cache.Count == 1, TimeSpan.FromSeconds(1), "the lease to be dropped");
            await Until.TrueAsync(() => sidecar.Runtime.Session.Current!.RevocationSequence == revocation.Sequence, what: "the sequence to be remembered");
            var next = (await sidecar.GetAsync("github.com")).GitGet;
            Assert.Equal(broker.State.IssuedSecrets[2], next.Password);
        }
    }

    [Fact]
    public async Task CredentialEvent_DropsEveryLeaseOfIt()
    {
        var (broker, sidecar) = await StartWithLeasesAsync();
        await using (broker)
        await using (sidecar)
        {
            broker.State.Revoke(Kind.Credential, "cred_gl");

            await Until.TrueAsync(() => sidecar.Runtime.Cache.Count == 1, TimeSpan.FromSeconds(1), "the credential's leases to be dropped");
            Assert.NotNull(sidecar.Runtime.Cache.Find(LeaseKey.ForGit("https", "github.com", "", "")!.Value));
        }
    }

    [Fact]
    public async Task WorkspaceEvent_DropsEverythingAndTheSession()
    {
        var (broker, sidecar) = await StartWithLeasesAsync();
        await using (broker)
        await using (sidecar)
        {
            broker.State.Revoke(Kind.Workspace, broker.State.WorkspaceId);

            await Until.TrueAsync(() => sidecar.Runtime.Session.Current is null, TimeSpan.FromSeconds(1), "the session to end");
            Assert.Equal(0, sidecar.Runtime.Cache.Count);
            Assert.Equal(Errors.NotBootstrappedCode, (await sidecar.GetAsync("github.com")).Error.Code);
            var status = sidecar.Runtime.Handler.Status();
            Assert.False(status.HasSession);
            Assert.False(status.Connected);
            Assert.Contains("revoked", status.LastError);
        }
    }

    [Fact]
    public async Task SessionEvent_ForAnEarlierSession_IsIgnored()
    {
        var (broker, sidecar) = await StartWithLeasesAsync();
        await using (broker)
        await using (sidecar)
        {
            broker.State.Revoke(Kind.Session, "ses_earlier");
            var marker = broker.State.Revoke(Kind.Lease, "lease_unknown");

            await Until.TrueAsync(() => sidecar.Runtime.Session.Current?.RevocationSequence == marker.Sequence, what: "both events to be applied");
            Assert.NotNull(sidecar.Runtime.Session.Current);
            Assert.Equal(2, sidecar.Runtime.Cache.Count);
        }
    }

    [Fact]
    public async Task Reconnect_LeaseRevokedWhileDown_IsDroppedBeforeItIsServed()
    {
        var (broker, sidecar) = await StartWithLeasesAsync();
        await using (broker)
        await using (sidecar)
        {
            var before = broker.State.Revoke(Kind.Credential, "cred_unrelated");
            await Until.TrueAsync(() => sidecar.Runtime.Session.Current!.RevocationSequence == before.Sequence, what: "the first event");
            var revoked = (await sidecar.GetAsync("github.com")).GitGet.Password;

            await broker.StopAsync();
            await Until.TrueAsync(() => sidecar.Runtime.Link.State == LinkState.Disconnected, what: "the sidecar to notice");
            Assert.Equal(revoked, (await sidecar.GetAsync("github.com")).GitGet.Password);
            broker.State.RevokeLeaseQuietly("lease_1");
            var validationsBefore = broker.State.ValidateCalls.Count;
            var opensBefore = broker.State.WatchOpens.Count;

            await broker.RestartAsync();
            await sidecar.WaitConnectedAsync();
            // The stream is opened before the validation call, but the server may see it after.
            await Until.TrueAsync(() => broker.State.WatchOpens.Count > opensBefore, what: "the stream to be reopened");

            var validated = broker.State.ValidateCalls[validationsBefore];
            Assert.Equal(["lease_1", "lease_2"], validated.Order());
            Assert.Equal(before.Sequence, broker.State.WatchOpens[^1]);
            var served = (await sidecar.GetAsync("github.com")).GitGet;
            Assert.True(served.Found);
            Assert.NotEqual(revoked, served.Password);
            Assert.NotNull(sidecar.Runtime.Cache.Find(LeaseKey.ForGit("https", "gitlab.com", "", "")!.Value));
        }
    }

    [Fact]
    public async Task Reconnect_AfterEventsWhileDown_ResumesFromLastSequence()
    {
        var (broker, sidecar) = await StartWithLeasesAsync();
        await using (broker)
        await using (sidecar)
        {
            await broker.StopAsync();
            await Until.TrueAsync(() => sidecar.Runtime.Link.State == LinkState.Disconnected, what: "the sidecar to notice");
            var revocation = broker.State.Revoke(Kind.Lease, "lease_2");

            await broker.RestartAsync();

            await Until.TrueAsync(() => sidecar.Runtime.Session.Current!.RevocationSequence == revocation.Sequence, what: "the missed event");
            Assert.Equal(1, sidecar.Runtime.Cache.Count);
            Assert.Equal(0, broker.State.WatchOpens[^1]);
        }
    }

    [Fact]
    public async Task Reconnect_ShedWithRetryHint_WaitsAtLeastTheHint_ThenResumesFromLastSequence()
    {
        var hint = TimeSpan.FromMilliseconds(400);
        var (broker, sidecar) = await StartWithLeasesAsync();
        await using (broker)
        await using (sidecar)
        {
            await broker.StopAsync();
            await Until.TrueAsync(() => sidecar.Runtime.Link.State == LinkState.Disconnected, what: "the sidecar to notice");
            var revocation = broker.State.Revoke(Kind.Lease, "lease_2");
            broker.State.ShedWatches(2, hint);
            var attemptsBefore = broker.State.WatchAttempts.Count;

            await broker.RestartAsync();

            await Until.TrueAsync(() => sidecar.Runtime.Session.Current!.RevocationSequence == revocation.Sequence, TimeSpan.FromSeconds(20), "the missed event");
            await sidecar.WaitConnectedAsync();
            var attempts = broker.State.WatchAttempts.Skip(attemptsBefore).ToList();
            Assert.Equal([true, true, false], attempts.Select(a => a.Shed));
            for (var i = 1; i < attempts.Count; i++)
            {
                var gap = System.Diagnostics.Stopwatch.GetElapsedTime(attempts[i - 1].Timestamp, attempts[i].Timestamp);
                Assert.True(gap >= hint, $"attempt {i + 1} came {gap.TotalMilliseconds:F0} ms after a shed answer that asked for {hint.TotalMilliseconds:F0} ms");
            }
            Assert.Equal(0, broker.State.WatchOpens[^1]);
            Assert.Equal(1, sidecar.Runtime.Cache.Count);
        }
    }
}
