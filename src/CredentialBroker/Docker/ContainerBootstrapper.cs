using System.Collections.Concurrent;
using Docker.DotNet;
using Xares.Broker.Hosting;

namespace Xares.Broker.Docker;

/// <summary>
/// Bootstraps started containers, one hand-over at a time per container: check the label, bind
/// and mint, deliver, wait for the sidecar's session; if none appears, deliver a fresh token once
/// more, then report the workspace as failing. A stopped container's hand-over is cancelled.
/// One per engine: container ids here are ids on <paramref name="engine"/>.
/// </summary>
internal sealed class ContainerBootstrapper(IDockerClient docker, DockerEndpoint engine, ContainerBinding binding, BootstrapDelivery delivery, TimeProvider time,
    ILogger<ContainerBootstrapper> logger)
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _inFlight = new();
    private readonly ConcurrentDictionary<string, bool> _refused = new();

    public TimeSpan SessionWait { get; init; } = TimeSpan.FromSeconds(4);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A hand-over the engine did not answer is tried again after this (then twice this), three times in all.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>True while a hand-over runs for the container, or after it was refused (audited once).</summary>
    public bool IsPendingOrRefused(string containerId) => _inFlight.ContainsKey(containerId) || _refused.ContainsKey(containerId);

    /// <summary>Starts the hand-over in the background unless one is running for this container.</summary>
    public void Start(string containerId, string why, CancellationToken connectionToken)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(connectionToken);
        if (!_inFlight.TryAdd(containerId, cancellation))
        {
            cancellation.Dispose();
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await RunAsync(containerId, why, cancellation.Token);
                        break;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException && attempt < 3)
                    {
                        // The engine blinked (a refused connection, a dropped stream): binding and
                        // minting again for the same container are safe, and nothing else would retry.
                        await Task.Delay(RetryDelay * attempt, cancellation.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                // The container stopped or the engine went away; a later start or reconcile retries.
            }
            catch (Exception ex)
            {
                DockerLog.HandlingFailed(logger, ex, On(containerId).Short);
            }
            finally
            {
                _inFlight.TryRemove(new KeyValuePair<string, CancellationTokenSource>(containerId, cancellation));
                cancellation.Dispose();
            }
        }, CancellationToken.None);
    }

    /// <summary>The container stopped: abandon its hand-over.</summary>
    public async Task CancelAsync(string containerId)
    {
        if (_inFlight.TryGetValue(containerId, out var pending))
        {
            try
            {
                await pending.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // It finished meanwhile.
            }
        }
    }

    /// <summary>The container is gone: forget it was refused.</summary>
    public void Forget(string containerId) => _refused.TryRemove(containerId, out _);

    /// <summary>Cancels every hand-over (shutdown).</summary>
    public async Task CancelAllAsync()
    {
        foreach (var containerId in _inFlight.Keys)
        {
            await CancelAsync(containerId);
        }
    }

    private async Task RunAsync(string containerId, string why, CancellationToken cancellationToken)
    {
        var inspected = await docker.Containers.InspectContainerAsync(containerId, cancellationToken);
        var labels = inspected.Config?.Labels;
        if (inspected.State?.Running != true || labels is null)
        {
            return;
        }
        ContainerGrant? grant;
        string refusal;
        if (labels.TryGetValue(DockerWatcher.WorkspaceLabel, out var label))
        {
            grant = await binding.BindAndMintAsync(On(containerId), label.Trim(), why);
            refusal = $"label {DockerWatcher.WorkspaceLabel}={DockerAudit.Printable(label)} names no workspace it may bind";
        }
        else if (labels.TryGetValue(WorkspaceClaim.Label, out var claim))
        {
            grant = await binding.ClaimAndMintAsync(On(containerId), claim, why);
            refusal = $"label {WorkspaceClaim.Label} was not accepted (see the audit log)";
        }
        else
        {
            return;
        }
        if (grant is null)
        {
            if (_refused.TryAdd(containerId, true))
            {
                DockerLog.Refused(logger, On(containerId).Short, refusal);
                BrokerMetrics.DockerBootstraps.WithLabels(engine.Name, "refused").Inc();
            }
            return;
        }
        await BootstrapAsync(grant, containerId, cancellationToken);
    }

    /// <summary>Delivers the grant (and once more a fresh token if no session appears); true when a session appeared.</summary>
    public async Task<bool> BootstrapAsync(ContainerGrant grant, string containerId, CancellationToken cancellationToken)
    {
        var problem = "";
        var container = On(containerId);
        var shortId = container.Short;
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var current = attempt == 1 ? grant : await binding.MintAgainAsync(grant.WorkspaceId, container, "re-delivery: no session appeared");
            if (current is null)
            {
                return false;
            }
            var since = time.GetUtcNow().AddMilliseconds(-1);
            var result = await delivery.DeliverAsync(containerId, current.Token, cancellationToken);
            if (result.Delivered && await WaitForSessionAsync(grant.WorkspaceId, since, cancellationToken))
            {
                DockerLog.Bootstrapped(logger, shortId, grant.WorkspaceId, attempt);
                await binding.RecordDeliveryAsync(grant.WorkspaceId, container, true, $"session opened (attempt {attempt})");
                BrokerMetrics.DockerBootstraps.WithLabels(engine.Name, ContainerStates.Running).Inc();
                return true;
            }
            problem = result.Delivered ? $"no session within {SessionWait.TotalSeconds:0} s of delivery" : result.Problem;
            DockerLog.DeliveryFailed(logger, shortId, grant.WorkspaceId, attempt, problem);
        }
        await binding.RecordDeliveryAsync(grant.WorkspaceId, container, false, $"bootstrap failed twice: {problem}");
        BrokerMetrics.DockerBootstraps.WithLabels(engine.Name, ContainerStates.Failing).Inc();
        return false;
    }

    private ContainerRef On(string containerId) => new(engine.Name, containerId);

    private async Task<bool> WaitForSessionAsync(string workspaceId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + SessionWait;
        while (true)
        {
            if (await binding.HasSessionSinceAsync(workspaceId, since))
            {
                return true;
            }
            if (time.GetUtcNow() >= deadline)
            {
                return false;
            }
            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }
}
