using System.Diagnostics;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.Docker;

/// <summary>
/// Follows the Docker engine's container events (README, Docker): `start` bootstraps a bound
/// container, `die` ends its session and leases, `destroy` revokes its workspace. Reconciles with
/// the engine on start-up and after every reconnect; a lost engine is retried with backoff while
/// the rest of the broker keeps serving. One per engine (`--docker`), each with its own lease, so
/// an engine that is down holds up no other and replicas may lead different engines. Runs only
/// while this replica holds that engine's watcher lease.
/// </summary>
internal sealed class DockerWatcher(IDockerClient docker, DockerEndpoint engine, ContainerBinding binding, ContainerBootstrapper bootstrapper, LeaderLease lease,
    BrokerOptions options, ILogger<DockerWatcher> logger) : BackgroundService
{
    public const string WorkspaceLabel = "xares.workspace";

    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    // While events flow, the engine is pinged this often; two failed pings in a row end the connection.
    private static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LivenessRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(2);

    // Put in the event channel by the supervisor: the watcher reconciles in turn with the events.
    private static readonly Message Resync = new() { Action = "xares.resync" };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = MinBackoff;
        var waiting = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await lease.TryAcquireAsync())
                {
                    if (!waiting)
                    {
                        DockerLog.NotLeader(logger, engine.Name, lease.Holder);
                        waiting = true;
                    }
                    await Task.Delay(lease.Lifetime / 3, stoppingToken);
                    continue;
                }
                waiting = false;
                using var leadership = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var renewal = RenewAsync(leadership);
                try
                {
                    await WatchAsync(() => backoff = MinBackoff, leadership.Token);
                }
                finally
                {
                    await leadership.CancelAsync();
                    await renewal;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                DockerLog.Unreachable(logger, engine.Name, Describe(ex), (long)backoff.TotalMilliseconds);
                await DelayQuietlyAsync(backoff, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
        await bootstrapper.CancelAllAsync();
        try
        {
            await lease.ReleaseAsync();
        }
        catch (Exception ex) when (ex is StorageUnavailableException or Audit.Devices.AuditDeviceUnavailableException or ObjectDisposedException)
        {
            // The lease simply expires.
        }
    }

    /// <summary>One connection: subscribe to events, reconcile, then handle events until the stream ends.</summary>
    private async Task WatchAsync(Action connected, CancellationToken cancellationToken)
    {
        await docker.System.PingAsync(cancellationToken);
        var events = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true });
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var parameters = new ContainerEventsParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["type"] = new Dictionary<string, bool> { ["container"] = true },
                ["event"] = new Dictionary<string, bool> { ["start"] = true, ["die"] = true, ["destroy"] = true },
                // No label filter: the engine ANDs label filters, and a container is ours with either
                // label (IsOurs filters on the labels an event carries).
            },
        };
        // Subscribed before reconciling, so nothing that happens meanwhile is missed.
        var monitor = docker.System.MonitorEventsAsync(parameters, new ChannelProgress(events.Writer), connection.Token)
            .ContinueWith(t => events.Writer.TryComplete(t.Exception?.GetBaseException() ?? new IOException("the Docker event stream ended")),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var supervisor = SuperviseAsync(events.Writer, connection.Token);
        DockerLog.Connected(logger, engine.Name, engine.Url);
        try
        {
            await ReconcileAsync(connection.Token);
            connected();
            BrokerMetrics.DockerWatcherConnected.WithLabels(engine.Name).Set(1);
            await foreach (var message in events.Reader.ReadAllAsync(connection.Token))
            {
                await HandleAsync(message, connection.Token);
            }
        }
        finally
        {
            BrokerMetrics.DockerWatcherConnected.WithLabels(engine.Name).Set(0);
            await connection.CancelAsync();
            await monitor;
            await supervisor;
        }
    }

    /// <summary>
    /// The end of the event stream is not a reliable sign of a lost engine: once in CI a stream
    /// stayed open across a dockerd restart and no event arrived again, and a socket proxy between
    /// the broker and the engine can do the same. So the engine is pinged while events are
    /// followed; when it stops answering, the event channel ends with an error and the watcher
    /// reconnects and reconciles. And because an event can still be missed (a restart faster than
    /// two pings behind such a proxy, a hand-over given up), the watcher also reconciles every
    /// <see cref="BrokerOptions.DockerResyncInterval"/>.
    /// </summary>
    private async Task SuperviseAsync(ChannelWriter<Message> events, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(LivenessInterval);
            var lastResync = Stopwatch.StartNew();
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (await PingsAsync(cancellationToken) is { } first && await DelayThenPingAsync(cancellationToken) is { } second)
                {
                    events.TryComplete(new IOException($"the Docker engine stopped answering ({Describe(first)}; {Describe(second)})"));
                    return;
                }
                if (lastResync.Elapsed >= options.DockerResyncInterval)
                {
                    events.TryWrite(Resync);
                    lastResync.Restart();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<Exception?> DelayThenPingAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(LivenessRetry, cancellationToken);
        return await PingsAsync(cancellationToken);
    }

    /// <summary>Null when the engine answers a ping in time; otherwise why not.</summary>
    private async Task<Exception?> PingsAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PingTimeout);
        try
        {
            await docker.System.PingAsync(timeout.Token);
            return null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            return ex;
        }
    }

    private async Task HandleAsync(Message message, CancellationToken cancellationToken)
    {
        if (ReferenceEquals(message, Resync))
        {
            await ReconcileAsync(cancellationToken);
            return;
        }
        var containerId = message.Actor?.ID ?? message.ID;
        if (string.IsNullOrEmpty(containerId) || !IsOurs(message.Actor?.Attributes))
        {
            return;
        }
        var container = new ContainerRef(engine.Name, containerId);
        try
        {
            switch (message.Action)
            {
                case "start":
                    bootstrapper.Start(containerId, "container started", cancellationToken);
                    break;
                case "die":
                    await bootstrapper.CancelAsync(containerId);
                    var exit = message.Actor?.Attributes is { } attributes && attributes.TryGetValue("exitCode", out var code) ? code : "?";
                    await StoppedAsync(container, $"stopped (exit code {exit})");
                    break;
                case "destroy":
                    await bootstrapper.CancelAsync(containerId);
                    bootstrapper.Forget(containerId);
                    await RemovedAsync(container, "removed");
                    break;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException && ex is not HttpRequestException && ex is not IOException)
        {
            DockerLog.HandlingFailed(logger, ex, container.Short);
        }
    }

    /// <summary>Brings the database in line with the engine: removed containers revoke, stopped ones end sessions, running ones get bootstrapped if needed.</summary>
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var containers = (await docker.Containers.ListContainersAsync(new ContainersListParameters { All = true }, cancellationToken))
            .Where(c => IsOurs(c.Labels)).ToList();
        var byId = containers.ToDictionary(c => c.ID);
        int stopped = 0, removed = 0, bootstrapped = 0;
        foreach (var workspace in await binding.ListBoundAsync(engine.Name))
        {
            if (!byId.TryGetValue(workspace.ContainerId!, out var container))
            {
                removed += await RemovedAsync(new ContainerRef(engine.Name, workspace.ContainerId!), "removed while the watcher was away") ? 1 : 0;
            }
            else if (container.State != "running" && workspace.ContainerState != ContainerStates.Stopped)
            {
                stopped += await StoppedAsync(new ContainerRef(engine.Name, container.ID), "found stopped") ? 1 : 0;
            }
        }
        // Oldest first, so "the first live container naming a workspace" is the one that wins.
        foreach (var container in containers.Where(c => c.State == "running").OrderBy(c => c.Created))
        {
            if (await NeedsBootstrapAsync(container.ID, cancellationToken))
            {
                bootstrapped++;
                bootstrapper.Start(container.ID, "reconciled: running without a current session", cancellationToken);
            }
        }
        DockerLog.Reconciled(logger, engine.Name, containers.Count, bootstrapped, stopped, removed);
    }

    /// <summary>True unless the container is bound and its workspace has a live session opened since the container (re)started.</summary>
    private async Task<bool> NeedsBootstrapAsync(string containerId, CancellationToken cancellationToken)
    {
        if (bootstrapper.IsPendingOrRefused(containerId))
        {
            return false;
        }
        var workspace = await binding.FindByContainerAsync(new ContainerRef(engine.Name, containerId));
        if (workspace is null)
        {
            return true;
        }
        var inspected = await docker.Containers.InspectContainerAsync(containerId, cancellationToken);
        var startedAt = DateTimeOffset.TryParse(inspected.State?.StartedAt, out var parsed) ? parsed : DateTimeOffset.MinValue;
        return !await binding.HasSessionSinceAsync(workspace.Id, startedAt);
    }

    private async Task<bool> StoppedAsync(ContainerRef container, string detail)
    {
        var workspaceId = await binding.ContainerStoppedAsync(container, detail);
        if (workspaceId is not null)
        {
            DockerLog.ContainerChanged(logger, container.Short, detail, workspaceId);
        }
        return workspaceId is not null;
    }

    private async Task<bool> RemovedAsync(ContainerRef container, string detail)
    {
        var workspaceId = await binding.ContainerRemovedAsync(container, detail);
        if (workspaceId is not null)
        {
            DockerLog.ContainerChanged(logger, container.Short, detail, workspaceId);
        }
        return workspaceId is not null;
    }

    /// <summary>Renews the lease at a third of its lifetime; cancels <paramref name="leadership"/> when it is lost.</summary>
    private async Task RenewAsync(CancellationTokenSource leadership)
    {
        try
        {
            while (true)
            {
                await Task.Delay(lease.Lifetime / 3, leadership.Token);
                if (!await lease.TryAcquireAsync())
                {
                    DockerLog.LeaseLost(logger, engine.Name);
                    await leadership.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The database is unavailable: without a renewed lease this replica must stop watching.
            DockerLog.Unreachable(logger, engine.Name, "watcher lease not renewed: " + Describe(ex), 0);
            await leadership.CancelAsync();
        }
    }

    /// <summary>A container the watcher follows: labelled with a workspace id or a signed claim (an event's attributes carry the labels).</summary>
    private static bool IsOurs(IDictionary<string, string>? labels) =>
        labels is not null && (labels.ContainsKey(WorkspaceLabel) || labels.ContainsKey(WorkspaceClaim.Label));

    private static async Task DelayQuietlyAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Describe(Exception ex) => ex.GetBaseException().Message;

    /// <summary>Puts events in the channel in the order they arrive (Progress&lt;T&gt; would post them to the thread pool unordered).</summary>
    private sealed class ChannelProgress(ChannelWriter<Message> writer) : IProgress<Message>
    {
        public void Report(Message value) => writer.TryWrite(value);
    }
}
