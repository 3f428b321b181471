using System.Net.Http.Json;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;
using Xares.Broker.Docker;
using Xares.Broker.Sessions;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Docker;

/// <summary>The watcher's periodic reconcile, on a whole broker whose Docker engine is a substitute that never sends an event.</summary>
public sealed class DockerWatcherResyncTests : IAsyncLifetime
{
    private readonly List<ContainerListResponse> _containers = [];
    private readonly List<RecordingStream> _execs = [];
    private readonly IDockerClient _docker;
    private BrokerTestHost _host = null!;

    public DockerWatcherResyncTests() => _docker = SubstituteEngine.Quiet(() => { lock (_containers) { return _containers.ToList(); } });

    public async Task InitializeAsync()
    {
        // The sidecar in the container redeems what it is handed.
        SubstituteEngine.RecordExecs(_docker, _execs, async token => await _host.Get<SessionService>().OpenAsync(token, null));
        _host = await BrokerTestHost.StartAsync(o => o with { DockerEngines = [DockerEndpoint.Unix("unix:///nonexistent/docker.sock")], DockerResyncInterval = TimeSpan.FromMilliseconds(300) },
            s => s.AddKeyedSingleton(DockerEndpoint.DefaultName, _docker));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task ContainerWhoseStartEventNeverCame_BootstrappedByThePeriodicReconcile()
    {
        var userId = await _host.CreateUserAsync("resync");
        var workspaceId = (await (await _host.Admin.PostAsJsonAsync("/api/v1/workspaces", new { userId, name = "w" })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("id").GetString()!;
        var labels = new Dictionary<string, string> { [DockerWatcher.WorkspaceLabel] = workspaceId };
        _docker.Containers.InspectContainerAsync("c-missed", Arg.Any<CancellationToken>())
            .Returns(new ContainerInspectResponse { State = new ContainerState { Running = true }, Config = new Config { Labels = labels } });

        lock (_containers)
        {
            _containers.Add(new ContainerListResponse { ID = "c-missed", State = "running", Labels = labels, Created = DateTime.UtcNow });
        }

        var deadline = DateTime.UtcNow.AddSeconds(15);
        JsonElement workspace;
        do
        {
            Assert.True(DateTime.UtcNow < deadline, "no reconcile bootstrapped the container");
            await Task.Delay(50);
            workspace = await _host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/workspaces/{workspaceId}");
        }
        while (workspace.GetProperty("containerState").ValueKind != JsonValueKind.String || workspace.GetProperty("containerState").GetString() != "running");
        Assert.Equal("c-missed", workspace.GetProperty("containerId").GetString());
        Assert.Single(workspace.GetProperty("activeSessions").EnumerateArray());
    }
}
