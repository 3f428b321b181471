using System.Net.Http.Json;
using Grpc.Core;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;
using Kind = Xares.Protos.Broker.V1.RevocationEvent.Types.Kind;

namespace Xares.Broker.Tests.Revocations;

/// <summary>
/// Every way a session ends reaches its open revocation stream as an event, after which the stream
/// ends: streams no longer poll the session's liveness, so a path that ended sessions silently would
/// leave their streams open. (Container stop is covered in ContainerBindingTests.)
/// </summary>
public sealed class SessionEndStreamTests : BrokerWithAliceTests
{
    [Fact]
    public async Task WatchRevocations_WorkspaceDeleted_WorkspaceEventThenStreamEnds()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        using var stream = await WatchAsync(sidecar);

        (await Host.Admin.DeleteAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}")).EnsureSuccessStatusCode();

        await AssertEndsWithAsync(stream, Kind.Workspace, sidecar.WorkspaceId);
    }

    [Fact]
    public async Task WatchRevocations_UserDeleted_WorkspaceEventThenStreamEnds()
    {
        var bob = await Host.CreateUserAsync("bob");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, bob)).OpenAsync();
        using var stream = await WatchAsync(sidecar);

        (await Host.Admin.DeleteAsync($"/api/v1/users/{bob}")).EnsureSuccessStatusCode();

        await AssertEndsWithAsync(stream, Kind.Workspace, sidecar.WorkspaceId);
    }

    [Fact]
    public async Task WatchRevocations_WorkspaceReBootstrapped_OldSessionEventThenStreamEnds()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var oldSessionId = sidecar.Grant!.SessionId;
        using var stream = await WatchAsync(sidecar);

        var minted = await Host.Admin.PostAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}/bootstrap", null);
        minted.EnsureSuccessStatusCode();
        var token = (await minted.Content.ReadFromJsonAsync<Bootstrap>())!.BootstrapToken;
        await new SidecarClient(Host, sidecar.WorkspaceId, token).OpenAsync();

        await AssertEndsWithAsync(stream, Kind.Session, oldSessionId);
    }

    [Fact]
    public async Task WatchRevocations_SupersededTokenReplayed_WorkspaceEventThenStreamEnds()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var superseded = sidecar.Auth;
        await sidecar.RefreshAsync();
        using var stream = await WatchAsync(sidecar);

        await Assert.ThrowsAsync<RpcException>(async () => await sidecar.Grpc.RefreshSessionAsync(new RefreshSessionRequest(), superseded));

        await AssertEndsWithAsync(stream, Kind.Workspace, sidecar.WorkspaceId);
    }

    /// <summary>Opens the session's stream and waits for its headers (the broker authenticated it); it reads from the grant's sequence, so nothing after it is missed.</summary>
    internal static async Task<AsyncServerStreamingCall<RevocationEvent>> WatchAsync(SidecarClient sidecar)
    {
        var call = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = sidecar.Grant!.RevocationSequence }, sidecar.Auth,
            cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        await call.ResponseHeadersAsync;
        return call;
    }

    internal static async Task AssertEndsWithAsync(AsyncServerStreamingCall<RevocationEvent> stream, Kind kind, string targetId)
    {
        Assert.True(await stream.ResponseStream.MoveNext());
        Assert.Equal((kind, targetId), (stream.ResponseStream.Current.Kind, stream.ResponseStream.Current.TargetId));
        var end = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unauthenticated, end.StatusCode);
    }

    private sealed record Bootstrap(string BootstrapToken);
}
