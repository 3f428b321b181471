using System.Net.Http.Json;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;
using Xares.Broker.Docker;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Docker;

/// <summary>
/// A broker with three engines, all substitutes: "up" answers, "down" never does, "b" is up too.
/// Containers are (engine, id): the same id on two engines is two containers.
/// </summary>
public sealed class SeveralEnginesTests : IAsyncLifetime
{
    private readonly IDockerClient _up = SubstituteEngine.Quiet();
    private readonly IDockerClient _b = SubstituteEngine.Quiet();
    private readonly IDockerClient _down = Substitute.For<IDockerClient>();
    private readonly List<RecordingStream> _execs = [];
    private BrokerTestHost _host = null!;
    private ContainerBinding _binding = null!;
    private string _upWorkspace = "";

    public async Task InitializeAsync()
    {
        _down.System.PingAsync(Arg.Any<CancellationToken>()).Returns(Task.FromException(new HttpRequestException("connection refused")));
        SubstituteEngine.RecordExecs(_up, _execs, async token => await _host.Get<SessionService>().OpenAsync(token, null));
        _host = await BrokerTestHost.StartAsync(
            o => o with
            {
                DockerEngines = [Engine("up"), Engine("down"), Engine("b")],
                DockerResyncInterval = TimeSpan.FromMilliseconds(300),
            },
            s => s.AddKeyedSingleton("up", _up).AddKeyedSingleton("down", _down).AddKeyedSingleton("b", _b));
        _binding = _host.Get<ContainerBinding>();
        // A running container on "up" that the watcher finds when it reconciles.
        _upWorkspace = await CreateWorkspaceAsync();
        var labels = new Dictionary<string, string> { [DockerWatcher.WorkspaceLabel] = _upWorkspace };
        _up.Containers.InspectContainerAsync("shared-id", Arg.Any<CancellationToken>())
            .Returns(new ContainerInspectResponse { State = new ContainerState { Running = true }, Config = new Config { Labels = labels } });
        _up.Containers.ListContainersAsync(Arg.Any<ContainersListParameters>(), Arg.Any<CancellationToken>())
            .Returns([new ContainerListResponse { ID = "shared-id", State = "running", Labels = labels, Created = DateTime.UtcNow }]);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task EngineDown_OthersStillBootstrap_EachEngineLeadsUnderItsOwnLease()
    {
        await PollAsync(async () => (await WorkspaceAsync(_upWorkspace)).GetProperty("containerState").GetString() == "running" ? "" : null);
        var workspace = await WorkspaceAsync(_upWorkspace);

        Assert.Equal("up", workspace.GetProperty("containerEngine").GetString());
        Assert.Equal("shared-id", workspace.GetProperty("containerId").GetString());
        var leases = await PollAsync(async () => await LeaseNamesAsync() is { Count: 3 } names ? names : null);
        Assert.Equal(["docker-watcher:b", "docker-watcher:down", "docker-watcher:up"], leases);
        await _down.System.ReceivedWithAnyArgs().PingAsync(default);
    }

    [Fact]
    public async Task SameIdOnTwoEngines_TwoContainers_StopAndRemoveReachOnlyTheirOwn()
    {
        var onA = await CreateWorkspaceAsync();
        var onB = await CreateWorkspaceAsync();
        // Engines no watcher here follows, so no reconcile interferes.
        var a = new ContainerRef("x", "same-id");
        var b = new ContainerRef("y", "same-id");
        var grantA = await _binding.BindAndMintAsync(a, onA, "container started");
        var grantB = await _binding.BindAndMintAsync(b, onB, "container started");
        await _host.Get<SessionService>().OpenAsync(grantA!.Token, null);
        await _host.Get<SessionService>().OpenAsync(grantB!.Token, null);

        // The id alone does not make a container: y/same-id cannot take x/same-id's workspace.
        Assert.Null(await _binding.BindAndMintAsync(b, onA, "container started"));
        Assert.Equal(onB, await _binding.ContainerStoppedAsync(b, "stopped (exit code 0)"));
        Assert.Empty((await WorkspaceAsync(onB)).GetProperty("activeSessions").EnumerateArray());
        Assert.Single((await WorkspaceAsync(onA)).GetProperty("activeSessions").EnumerateArray());
        Assert.Null(await _binding.ContainerRemovedAsync(new ContainerRef("c", "same-id"), "removed"));
        Assert.Equal(onA, await _binding.ContainerRemovedAsync(a, "removed"));
        Assert.Equal("active", (await WorkspaceAsync(onB)).GetProperty("status").GetString());

        var denied = await _host.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?action=docker.bind&limit=100");
        Assert.Contains(denied.GetProperty("items").EnumerateArray(), r => r.GetProperty("detail").GetString()
            == $"container y/same-id refused: workspace {onA} is bound to container x/same-id");
        Assert.Equal("y", (await WorkspaceAsync(onB)).GetProperty("containerEngine").GetString());
    }

    private static DockerEndpoint Engine(string name) => DockerEndpoint.Unix($"unix:///nonexistent/{name}.sock", name);

    private Task<List<string>> LeaseNamesAsync() =>
        _host.Get<Database>().ReadAsync(c => Sql.Query(c, null, "SELECT name FROM leader_leases WHERE name LIKE 'docker-watcher%' ORDER BY name", r => r.GetString(0)));

    private static async Task<T> PollAsync<T>(Func<Task<T?>> probe) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(50);
        }
    }

    private Task<string> CreateWorkspaceAsync() => ContainerBindingTests.CreateWorkspaceAsync(_host);

    private Task<JsonElement> WorkspaceAsync(string id) => ContainerBindingTests.WorkspaceAsync(_host, id);
}
