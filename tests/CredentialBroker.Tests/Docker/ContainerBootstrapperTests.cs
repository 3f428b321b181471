using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using Xares.Broker.Docker;
using Xares.Broker.Sessions;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Docker;

/// <summary>Deliver, wait for the session, re-deliver once, then report failing — with the Docker API substituted.</summary>
public sealed class ContainerBootstrapperTests : IAsyncLifetime
{
    private readonly IDockerClient _docker = SubstituteEngine.Quiet();
    private readonly List<RecordingStream> _execs = [];
    private BrokerTestHost _host = null!;
    private Func<string, Task> _onExec = _ => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        SubstituteEngine.RecordExecs(_docker, _execs, token => _onExec(token));
        _host = await BrokerTestHost.StartAsync(o => o with { DockerEngines = [DockerEndpoint.Unix("unix:///nonexistent/docker.sock")] }, s => s.AddKeyedSingleton(DockerEndpoint.DefaultName, _docker));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ContainerBootstrapper Bootstrapper() => new(_docker, DockerEndpoint.Unix("unix:///nonexistent/docker.sock"), _host.Get<ContainerBinding>(), new BootstrapDelivery(_docker), TimeProvider.System,
        NullLogger<ContainerBootstrapper>.Instance)
    {
        SessionWait = TimeSpan.FromMilliseconds(300), PollInterval = TimeSpan.FromMilliseconds(20), RetryDelay = TimeSpan.FromMilliseconds(20),
    };

    [Fact]
    public async Task BootstrapAsync_SidecarRedeems_RunningAfterOneDelivery()
    {
        var workspaceId = await CreateWorkspaceAsync();
        var grant = await _host.Get<ContainerBinding>().BindAndMintAsync(On("c1"), workspaceId, "container started");
        _onExec = async token => await _host.Get<SessionService>().OpenAsync(token, null);

        Assert.True(await Bootstrapper().BootstrapAsync(grant!, "c1", CancellationToken.None));

        Assert.Single(_execs);
        var workspace = await WorkspaceAsync(workspaceId);
        Assert.Equal("running", workspace.GetProperty("containerState").GetString());
        Assert.Single(workspace.GetProperty("activeSessions").EnumerateArray());
    }

    [Fact]
    public async Task Start_EngineDoesNotAnswerTheFirstInspect_HandOverRetriedAndRunning()
    {
        var workspaceId = await CreateWorkspaceAsync();
        var inspections = 0;
        _docker.Containers.InspectContainerAsync("c7", Arg.Any<CancellationToken>()).Returns(_ => ++inspections == 1
            ? Task.FromException<ContainerInspectResponse>(new HttpRequestException("Connection failed"))
            : Task.FromResult(new ContainerInspectResponse
            {
                State = new ContainerState { Running = true },
                Config = new Config { Labels = new Dictionary<string, string> { [DockerWatcher.WorkspaceLabel] = workspaceId } },
            }));
        _onExec = async token => await _host.Get<SessionService>().OpenAsync(token, null);

        Bootstrapper().Start("c7", "container started", CancellationToken.None);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await WorkspaceAsync(workspaceId)).GetProperty("containerState").ValueKind != JsonValueKind.String
            || (await WorkspaceAsync(workspaceId)).GetProperty("containerState").GetString() != "running")
        {
            Assert.True(DateTime.UtcNow < deadline, "the hand-over was not retried");
            await Task.Delay(20);
        }
        Assert.Equal(2, inspections);
    }

    [Fact]
    public async Task BootstrapAsync_NoSessionAppears_RedeliversFreshTokenOnceThenFailing()
    {
        var workspaceId = await CreateWorkspaceAsync();
        var grant = await _host.Get<ContainerBinding>().BindAndMintAsync(On("c1"), workspaceId, "container started");

        Assert.False(await Bootstrapper().BootstrapAsync(grant!, "c1", CancellationToken.None));

        Assert.Equal(2, _execs.Count);
        var tokens = _execs.Select(e => Encoding.ASCII.GetString(e.Written.ToArray()).Trim()).ToList();
        Assert.NotEqual(tokens[0], tokens[1]);
        Assert.Null(await _host.Get<SessionService>().OpenAsync(tokens[0], null)); // the first was invalidated by the second
        var workspace = await WorkspaceAsync(workspaceId);
        Assert.Equal("failing", workspace.GetProperty("status").GetString());
    }

    [Fact]
    public async Task BootstrapAsync_SecondDeliveryWorks_Running()
    {
        var workspaceId = await CreateWorkspaceAsync();
        var grant = await _host.Get<ContainerBinding>().BindAndMintAsync(On("c1"), workspaceId, "container started");
        _onExec = async token =>
        {
            if (_execs.Count == 2)
            {
                await _host.Get<SessionService>().OpenAsync(token, null);
            }
        };

        Assert.True(await Bootstrapper().BootstrapAsync(grant!, "c1", CancellationToken.None));

        Assert.Equal(2, _execs.Count);
        Assert.Equal("active", (await WorkspaceAsync(workspaceId)).GetProperty("status").GetString());
    }

    private async Task<string> CreateWorkspaceAsync()
    {
        var userId = await _host.CreateUserAsync("u" + Guid.NewGuid().ToString("N")[..8]);
        var response = await _host.Admin.PostAsJsonAsync("/api/v1/workspaces", new { userId, name = "w" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> WorkspaceAsync(string id) =>
        await _host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/workspaces/{id}");

    private static ContainerRef On(string id) => new(DockerEndpoint.DefaultName, id);
}
