using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.DevKit;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Revocations;

/// <summary>A sidecar that stops reading its stream is cut off with a retryable status, and resuming loses nothing.</summary>
public sealed class RevocationOverflowTests
{
    [Fact]
    public async Task WatchRevocations_ClientStopsReading_UnavailableAndResumeGetsEveryEventInOrder()
    {
        // A one-event queue: once the unread response fills the transport's buffer, the next event overflows it.
        await using var host = await BrokerTestHost.StartAsync(services: s => s.AddSingleton(new RevocationHub(queueCapacity: 1)));
        var alice = await host.CreateUserAsync("alice");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = sidecar.Grant!.RevocationSequence }, sidecar.Auth,
            cancellationToken: giveUp.Token);
        await stream.ResponseHeadersAsync;

        const int Revocations = 3000; // well past what the transport buffers unread
        var reads = host.Get<RevocationLogReads>();
        var readsBefore = reads.DispatchReads;
        await host.Get<WriteQueue>().ExecuteAsync((c, t) =>
        {
            for (var i = 0; i < Revocations; i++)
            {
                host.Get<RevocationLog>().Append(c, t, RevocationKinds.Lease, $"lease_{i}", workspaceId: sidecar.WorkspaceId);
            }
        });
        // The sidecar reads nothing until the broker has dispatched every page (and the empty one after them).
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(reads.DispatchReads - readsBefore > Revocations / RevocationLog.PageSize),
            TimeSpan.FromSeconds(30)), "the dispatcher did not read the whole log");

        var received = new List<RevocationEvent>();
        var closed = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ResponseStream.MoveNext(giveUp.Token))
            {
                received.Add(stream.ResponseStream.Current);
            }
        });
        Assert.Equal(StatusCode.Unavailable, closed.StatusCode);
        Assert.Contains("fell behind", closed.Status.Detail, StringComparison.Ordinal);
        Assert.InRange(received.Count, 1, Revocations - 1);

        // The sidecar reconnects from the last sequence it got and reads the rest from the log.
        using var resumed = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = received[^1].Sequence }, sidecar.Auth,
            cancellationToken: giveUp.Token);
        while (received.Count < Revocations && await resumed.ResponseStream.MoveNext(giveUp.Token))
        {
            received.Add(resumed.ResponseStream.Current);
        }
        Assert.Equal(Enumerable.Range(0, Revocations).Select(i => $"lease_{i}"), received.Select(e => e.TargetId));
    }
}
