using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Hosting;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Protos.Broker.V1;
using Kind = Xares.Protos.Broker.V1.RevocationEvent.Types.Kind;

namespace Xares.Broker.Tests.Revocations;

/// <summary>The revocation fan-out on both backends: one log reader per process, each stream gets exactly its events.</summary>
public abstract class RevocationFanOutContractTests(StorageBackend backend)
{
    private static readonly DateTimeOffset InAnHour = DateTimeOffset.UtcNow.AddHours(1);

    [Fact]
    public async Task Dispatch_MixedRevocations_EachStreamGetsExactlyItsOwnAndSessionEndsEndTheirStream()
    {
        await using var rig = await FanOutRig.StartAsync(backend);
        await rig.SeedAsync("usr_a", "ws_a1", "ws_a2");
        await rig.SeedAsync("usr_b", "ws_b1");
        var a1 = rig.Open(await rig.OpenSessionAsync("ses_a1", "ws_a1", "usr_a", InAnHour));
        var a2 = rig.Open(await rig.OpenSessionAsync("ses_a2", "ws_a2", "usr_a", InAnHour));
        var b1 = rig.Open(await rig.OpenSessionAsync("ses_b1", "ws_b1", "usr_b", InAnHour));
        await rig.WaitForStreamsAsync(3);

        await rig.RevokeAsync(RevocationKinds.Lease, "lease_a1", workspaceId: "ws_a1");
        await rig.RevokeAsync(RevocationKinds.Credential, "cred_a", userId: "usr_a");
        await rig.RevokeAsync(RevocationKinds.Session, "ses_earlier", workspaceId: "ws_a1"); // a re-bootstrap ended an earlier session
        await rig.RevokeAsync(RevocationKinds.Lease, "lease_b1", workspaceId: "ws_b1");
        await rig.RevokeAsync(RevocationKinds.Credential, "cred_b", userId: "usr_b");
        await rig.RevokeAsync(RevocationKinds.Lease, "lease_a2", workspaceId: "ws_a2");
        await rig.RevokeAsync(RevocationKinds.Session, "ses_a1", workspaceId: "ws_a1");
        await rig.RevokeAsync(RevocationKinds.Workspace, "ws_a2", workspaceId: "ws_a2");
        await rig.RevokeAsync(RevocationKinds.Lease, "lease_b2", workspaceId: "ws_b1");

        await a1.EndedAsync();
        await a2.EndedAsync();
        Assert.Equal([(Kind.Lease, "lease_a1"), (Kind.Credential, "cred_a"), (Kind.Session, "ses_a1")], Targets(a1.Received));
        Assert.Equal([(Kind.Credential, "cred_a"), (Kind.Lease, "lease_a2"), (Kind.Workspace, "ws_a2")], Targets(a2.Received));
        Assert.Equal([(Kind.Lease, "lease_b1"), (Kind.Credential, "cred_b"), (Kind.Lease, "lease_b2")], Targets(await b1.TakeAsync(3)));
        Assert.False(b1.Completion.IsCompleted);
        Assert.Equal(1, rig.Hub.StreamCount);
    }

    [Fact]
    public async Task Dispatch_EveryLiveDelivery_IsTimedInTheDeliveryHistogram()
    {
        await using var rig = await FanOutRig.StartAsync(backend);
        await rig.SeedAsync("usr_t", "ws_t1", "ws_t2", "ws_t3");
        var streams = new List<FanOutRig.TestStream>();
        for (var i = 1; i <= 3; i++)
        {
            streams.Add(rig.Open(await rig.OpenSessionAsync($"ses_t{i}", $"ws_t{i}", "usr_t", InAnHour)));
        }
        await rig.WaitForStreamsAsync(3);
        var before = BrokerMetrics.RevocationDelivery.Count;

        await rig.RevokeAsync(RevocationKinds.Credential, "cred_t", userId: "usr_t");
        foreach (var stream in streams)
        {
            await stream.TakeAsync(1);
        }

        // The histogram is process-wide (other tests add to it too): at least one observation per stream told.
        Assert.True(BrokerMetrics.RevocationDelivery.Count >= before + 3, $"{BrokerMetrics.RevocationDelivery.Count} observations, {before} before");
    }

    [Fact]
    public async Task Stream_OpenedWhileRevocationsCommit_EveryEventOnceInOrder()
    {
        await using var rig = await FanOutRig.StartAsync(backend);
        await rig.SeedAsync("usr_a", "ws_a");
        var streams = new List<FanOutRig.TestStream>();
        const int Revocations = 30;
        var revoking = Task.Run(async () =>
        {
            for (var i = 0; i < Revocations; i++)
            {
                await rig.RevokeAsync(RevocationKinds.Lease, $"lease_{i}", workspaceId: "ws_a");
            }
        });
        // Streams join before, during and after the commits; each catches up from 0, then goes live.
        for (var i = 0; i < 10; i++)
        {
            streams.Add(rig.Open(await rig.OpenSessionAsync($"ses_{i}", "ws_a", "usr_a", InAnHour)));
            await Task.Yield();
        }
        await revoking;

        foreach (var stream in streams)
        {
            var received = await stream.TakeAsync(Revocations);
            Assert.Equal(Enumerable.Range(0, Revocations).Select(i => $"lease_{i}"), received.Select(e => e.TargetId));
            Assert.Equal(received.Select(e => e.Sequence).Order(), received.Select(e => e.Sequence));
        }
        await rig.RevokeAsync(RevocationKinds.Workspace, "ws_a", workspaceId: "ws_a");
        foreach (var stream in streams)
        {
            await stream.EndedAsync();
            Assert.Equal(Revocations + 1, stream.Received.Count); // nothing twice
        }
    }

    [Fact]
    public async Task Stream_SlowPastItsQueue_ClosedAndResumedStreamGetsEveryEventWhileOthersKeepUp()
    {
        await using var rig = await FanOutRig.StartAsync(backend, queueCapacity: 2);
        await rig.SeedAsync("usr_a", "ws_slow", "ws_fast");
        var slowSession = await rig.OpenSessionAsync("ses_slow", "ws_slow", "usr_a", InAnHour);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = rig.Open(slowSession, write: _ => gate.Task);
        var fast = rig.Open(await rig.OpenSessionAsync("ses_fast", "ws_fast", "usr_a", InAnHour));
        await rig.WaitForStreamsAsync(2);

        var sequences = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            // One at a time, so only the slow stream's queue fills: the fast one drains between them.
            sequences.Add(await rig.RevokeAsync(RevocationKinds.Credential, $"cred_{i}", userId: "usr_a"));
            Assert.Equal(sequences[^1], (await fast.NextAsync()).Sequence);
        }
        gate.SetResult();
        await Assert.ThrowsAsync<RevocationStreamOverflowException>(slow.EndedAsync);
        var written = slow.Received.Select(e => e.Sequence).ToList();
        Assert.Equal(sequences.Take(written.Count), written); // what it wrote has no gap
        Assert.True(written.Count < sequences.Count);

        var resumed = rig.Open(slowSession, afterSequence: written[^1]);
        Assert.Equal(sequences.Skip(written.Count), (await resumed.TakeAsync(sequences.Count - written.Count)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Dispatcher_WakeUpLost_SafetyPollDeliversTheRevocation()
    {
        // The dispatcher listens on a signal nothing pulses: every commit's wake-up is lost.
        await using var rig = await FanOutRig.StartAsync(backend, safetyPoll: TimeSpan.FromMilliseconds(200), dispatcherSignal: new RevocationSignal());
        await rig.SeedAsync("usr_a", "ws_a");
        var stream = rig.Open(await rig.OpenSessionAsync("ses_a", "ws_a", "usr_a", InAnHour));
        await rig.WaitForStreamsAsync(1);

        var sequence = await rig.RevokeAsync(RevocationKinds.Lease, "lease_1", workspaceId: "ws_a");

        Assert.Equal(sequence, (await stream.NextAsync()).Sequence);
        Assert.Equal(0, rig.Reads.DispatchReads);
    }

    [Fact]
    public async Task Stream_SessionExpires_TimerEndsItAndAnExtendedSessionIsReArmed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var rig = await FanOutRig.StartAsync(backend, streamTime: clock);
        await rig.SeedAsync("usr_a", "ws_a");
        var expires = clock.GetUtcNow().AddHours(1);
        var stream = rig.Open(await rig.OpenSessionAsync("ses_a", "ws_a", "usr_a", expires));
        await rig.WaitForStreamsAsync(1);
        // A live event: the stream is past its catch-up and its expiry timer is armed.
        await rig.RevokeAsync(RevocationKinds.Lease, "lease_1", workspaceId: "ws_a");
        await stream.NextAsync();
        await rig.Replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t,
            "UPDATE sessions SET expires_at = @at WHERE id = 'ses_a'", ("@at", expires.AddHours(2).ToDb())));

        clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        // The timer fired and found the session extended: still open, so it gets the next event.
        await rig.RevokeAsync(RevocationKinds.Lease, "lease_2", workspaceId: "ws_a");
        Assert.Equal("lease_2", (await stream.NextAsync()).TargetId);

        clock.Advance(TimeSpan.FromHours(2));
        await stream.EndedAsync();
        Assert.Equal(["lease_1", "lease_2"], stream.Received.Select(e => e.TargetId));
        Assert.Equal(0, rig.Hub.StreamCount);
    }

    [Fact]
    public async Task Dispatch_OneRevocation_SameLogReadsWithOneStreamAsWithForty()
    {
        await using var rig = await FanOutRig.StartAsync(backend);
        var workspaces = Enumerable.Range(0, 40).Select(i => $"ws_{i}").ToArray();
        await rig.SeedAsync("usr_a", workspaces);
        var first = rig.Open(await rig.OpenSessionAsync("ses_0", workspaces[0], "usr_a", InAnHour));
        await rig.WaitForStreamsAsync(1);

        var readsWithOne = await ReadsForOneRevocationAsync(rig, "cred_1", [first]);
        var streams = new List<FanOutRig.TestStream> { first };
        var latest = await rig.LatestSequenceAsync();
        foreach (var workspace in workspaces.Skip(1))
        {
            streams.Add(rig.Open(await rig.OpenSessionAsync($"ses_{workspace}", workspace, "usr_a", InAnHour), afterSequence: latest));
        }
        await rig.WaitForStreamsAsync(40);
        var readsWithForty = await ReadsForOneRevocationAsync(rig, "cred_2", streams);

        Assert.Equal(1, readsWithOne);
        Assert.Equal(readsWithOne, readsWithForty);
        Assert.Equal(40, rig.Reads.CatchUpReads); // one per stream, when it connected
    }

    private static async Task<long> ReadsForOneRevocationAsync(FanOutRig rig, string credentialId, List<FanOutRig.TestStream> streams)
    {
        var before = rig.Reads.DispatchReads + rig.Reads.SafetyReads;
        var sequence = await rig.RevokeAsync(RevocationKinds.Credential, credentialId, userId: "usr_a");
        foreach (var stream in streams)
        {
            Assert.Equal(sequence, (await stream.NextAsync()).Sequence);
        }
        return rig.Reads.DispatchReads + rig.Reads.SafetyReads - before;
    }

    private static List<(Kind, string)> Targets(IEnumerable<RevocationEvent> events) => events.Select(e => (e.Kind, e.TargetId)).ToList();
}

public sealed class SqliteRevocationFanOutContractTests() : RevocationFanOutContractTests(new SqliteBackend());

public sealed class PostgresRevocationFanOutContractTests() : RevocationFanOutContractTests(new PostgresBackend());
