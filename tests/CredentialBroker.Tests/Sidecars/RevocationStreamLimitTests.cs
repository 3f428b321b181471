using Grpc.Core;
using Xares.Broker.Revocations;
using Xares.Broker.Tests.Support;
using Xares.DevKit;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

public sealed class RevocationStreamLimitTests
{
    [Fact]
    public async Task WatchRevocations_FourthStreamOfASession_ResourceExhaustedUntilOneEnds()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        var other = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var streams = new List<(AsyncServerStreamingCall<RevocationEvent> Call, CancellationTokenSource Cancel)>();
        try
        {
            for (var i = 0; i < RevocationStreamSlots.PerSession; i++)
            {
                streams.Add(await OpenAsync(sidecar, stop.Token));
            }

            Assert.Equal(StatusCode.ResourceExhausted, await ProbeAsync(sidecar));
            // Another session is not affected: its stream stays open until the probe gives up on it.
            Assert.Equal(StatusCode.Cancelled, await ProbeAsync(other));

            // Ending one stream frees its slot (once the server has seen it end).
            await streams[0].Cancel.CancelAsync();
            Assert.True(await Poll.UntilAsync(async () => await ProbeAsync(sidecar) == StatusCode.Cancelled, TimeSpan.FromSeconds(10)),
                "the ended stream's slot was never released");
        }
        finally
        {
            foreach (var (call, cancel) in streams)
            {
                await cancel.CancelAsync();
                call.Dispose();
                cancel.Dispose();
            }
        }
    }

    [Fact]
    public void TryTake_PastTheCap_NullUntilASlotIsReleasedOnce()
    {
        var slots = new RevocationStreamSlots();
        var taken = Enumerable.Range(0, RevocationStreamSlots.PerSession).Select(_ => slots.TryTake("ses_1")).ToList();

        Assert.All(taken, Assert.NotNull);
        Assert.Null(slots.TryTake("ses_1"));
        Assert.NotNull(slots.TryTake("ses_2"));
        taken[0]!.Dispose();
        taken[0]!.Dispose(); // a second dispose frees nothing more
        Assert.Equal(RevocationStreamSlots.PerSession - 1, slots.OpenFor("ses_1"));
        Assert.NotNull(slots.TryTake("ses_1"));
        Assert.Null(slots.TryTake("ses_1"));
    }

    /// <summary>Opens a stream and waits briefly for its first event: Cancelled when it was live (and quiet), else how the server ended it.</summary>
    private static async Task<StatusCode> ProbeAsync(SidecarClient sidecar)
    {
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        using var call = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = sidecar.Grant!.RevocationSequence }, sidecar.Auth,
            cancellationToken: giveUp.Token);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(giveUp.Token));
        if (error.StatusCode == StatusCode.ResourceExhausted)
        {
            Assert.Contains("revocation streams", error.Status.Detail, StringComparison.Ordinal);
        }
        return error.StatusCode;
    }

    // Waits for the response headers: the server sends them once the stream holds its slot.
    private static async Task<(AsyncServerStreamingCall<RevocationEvent> Call, CancellationTokenSource Cancel)> OpenAsync(SidecarClient sidecar, CancellationToken stop)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var call = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = sidecar.Grant!.RevocationSequence }, sidecar.Auth,
            cancellationToken: cancel.Token);
        try
        {
            await call.ResponseHeadersAsync;
            return (call, cancel);
        }
        catch
        {
            call.Dispose();
            cancel.Dispose();
            throw;
        }
    }
}
