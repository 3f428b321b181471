using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Xares.Protos.Broker.V1;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Tests.Fakes;

namespace Xares.Sidecar.Tests.Broker;

/// <summary>Two fake broker replicas sharing one state, as replicas share one database.</summary>
public sealed class FailoverCallInvokerTests
{
    [Fact]
    public async Task UnaryCall_CurrentReplicaDown_RetriedOnTheNextWithTheSameSession()
    {
        var state = new FakeBrokerState();
        state.AddCredential("git.example.com", "cred_1", "me", "tok_failover_1");
        await using var a = await FakeBroker.StartAsync(state);
        await using var b = await FakeBroker.StartAsync(state);
        using var invoker = new FailoverCallInvoker([a.Url, b.Url], NullLogger.Instance);
        var client = new SidecarBroker.SidecarBrokerClient(invoker);
        var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = state.AddBootstrapToken() });
        var auth = new Metadata { { "authorization", "Bearer " + grant.SessionToken } };
        var request = new GitCredentialRequest { Protocol = "https", Host = "git.example.com" };

        await a.StopAsync();
        var reply = await client.GetGitCredentialAsync(request, auth);

        Assert.StartsWith("tok_failover_1", reply.Lease.Secret, StringComparison.Ordinal);
        Assert.Equal(b.Url, invoker.Current);
        Assert.Equal(1, state.OpenSessionCalls);
        // It stays on B once A is back: no flapping.
        await a.RestartAsync();
        await client.GetGitCredentialAsync(request, auth);
        Assert.Equal(b.Url, invoker.Current);
    }

    [Fact]
    public async Task UnaryCall_EveryReplicaDown_FailsUnavailable()
    {
        await using var a = await FakeBroker.StartAsync();
        await using var b = await FakeBroker.StartAsync();
        using var invoker = new FailoverCallInvoker([a.Url, b.Url], NullLogger.Instance);
        await a.StopAsync();
        await b.StopAsync();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new SidecarBroker.SidecarBrokerClient(invoker).OpenSessionAsync(new OpenSessionRequest { BootstrapToken = "xbt_x" }));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task RevocationStream_ReplicaGone_NextStreamOpensOnTheOtherReplica()
    {
        var state = new FakeBrokerState();
        await using var a = await FakeBroker.StartAsync(state);
        await using var b = await FakeBroker.StartAsync(state);
        using var invoker = new FailoverCallInvoker([a.Url, b.Url], NullLogger.Instance);
        var client = new SidecarBroker.SidecarBrokerClient(invoker);
        var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = state.AddBootstrapToken() });
        var auth = new Metadata { { "authorization", "Bearer " + grant.SessionToken } };
        await a.StopAsync();

        // The watcher's reconnect finds A gone: that attempt fails, and moves the invoker on.
        using (var refused = client.WatchRevocations(new WatchRevocationsRequest(), auth))
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => refused.ResponseStream.MoveNext(CancellationToken.None));
            // Refused outright (Unavailable), or, when the stop races the request, a torn connection (Internal from HttpClient).
            Assert.True(error.StatusCode == StatusCode.Unavailable || (error.StatusCode == StatusCode.Internal && error.Status.DebugException is HttpRequestException),
                error.ToString());
        }
        Assert.Equal(b.Url, invoker.Current);

        using var again = client.WatchRevocations(new WatchRevocationsRequest(), auth);
        var next = again.ResponseStream.MoveNext(CancellationToken.None);
        await Until.TrueAsync(() => state.WatchOpens.Count == 1);
        state.Revoke(RevocationEvent.Types.Kind.Lease, "lease_1");
        Assert.True(await next);
        Assert.Equal("lease_1", again.ResponseStream.Current.TargetId);
    }

    [Fact]
    public async Task RevocationStream_ReplicaGoneWhileAwaitingHeaders_NextStreamOpensOnTheOtherReplica()
    {
        var state = new FakeBrokerState();
        await using var a = await FakeBroker.StartAsync(state);
        await using var b = await FakeBroker.StartAsync(state);
        using var invoker = new FailoverCallInvoker([a.Url, b.Url], NullLogger.Instance);
        var client = new SidecarBroker.SidecarBrokerClient(invoker);
        var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = state.AddBootstrapToken() });
        var auth = new Metadata { { "authorization", "Bearer " + grant.SessionToken } };
        await a.StopAsync();

        // The watcher waits for the stream's headers (the broker admitted it) before it revalidates.
        using (var refused = client.WatchRevocations(new WatchRevocationsRequest(), auth))
        {
            await Assert.ThrowsAsync<RpcException>(() => refused.ResponseHeadersAsync);
        }
        Assert.Equal(b.Url, invoker.Current);

        using var again = client.WatchRevocations(new WatchRevocationsRequest(), auth);
        await again.ResponseHeadersAsync;
        Assert.Single(state.WatchOpens);
    }
}
