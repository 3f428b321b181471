namespace Xares.DevKit;

/// <summary>How to launch a <see cref="BrokerProcess"/>; the defaults are one broker on SQLite in its data dir.</summary>
/// <param name="Name">Names its data dir, home and log, so several brokers can share one scratch directory.</param>
/// <param name="Arguments">More `serve` options, e.g. `--outbound-allow 127.0.0.1`.</param>
/// <param name="Environment">More environment, e.g. XARES_DATABASE and XARES_MASTER_KEY for a replica of a PostgreSQL set.</param>
/// <param name="WritesAdminKey">False for a replica joining a database that already has its admin: only the first writes initial-admin-key.</param>
/// <param name="GrpcTls">An https gRPC listener (the launch names --tls-cert and --tls-key, by flag or settings file).</param>
internal sealed record BrokerLaunch(
    string Name = "broker",
    IReadOnlyList<string>? Arguments = null,
    IReadOnlyDictionary<string, string>? Environment = null,
    bool WritesAdminKey = true,
    bool GrpcTls = false);

/// <summary>
/// The published broker (<c>dotnet artifacts/broker/xares-broker.dll serve …</c>) with its own
/// data dir and free loopback ports, kept across <see cref="RestartAsync"/>.
/// </summary>
internal sealed class BrokerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly ScratchDirectory directory;
    private readonly BrokerLaunch launch;
    private BackgroundProcess? process;

    private BrokerProcess(ScratchDirectory directory, BrokerLaunch launch)
    {
        this.directory = directory;
        this.launch = launch;
        DataDirectory = directory.Sub(launch.Name + "-data");
        RestUrl = $"http://127.0.0.1:{FreePort.Next()}";
        GrpcUrl = $"{(launch.GrpcTls ? "https" : "http")}://127.0.0.1:{FreePort.Next()}";
        LogFile = Path.Combine(directory.Logs, launch.Name + ".log");
    }

    public string DataDirectory { get; }

    public string RestUrl { get; }

    public string GrpcUrl { get; }

    public string LogFile { get; }

    /// <summary>The bootstrap admin API key the broker wrote to <c>&lt;data-dir&gt;/initial-admin-key</c>.</summary>
    public string AdminKey { get; private set; } = "";

    public bool IsRunning => process is { HasExited: false };

    /// <summary>The broker's pid (the dotnet host itself), e.g. for reading its CPU time and memory from /proc.</summary>
    public int ProcessId => process?.Id ?? throw new InvalidOperationException("The broker was never started.");

    /// <param name="extraArguments">More `serve` options, e.g. `--outbound-allow 127.0.0.1`.</param>
    public static Task<BrokerProcess> StartAsync(ScratchDirectory directory, params string[] extraArguments) =>
        StartAsync(directory, new BrokerLaunch(Arguments: extraArguments));

    public static async Task<BrokerProcess> StartAsync(ScratchDirectory directory, BrokerLaunch launch)
    {
        var broker = new BrokerProcess(directory, launch);
        await broker.LaunchAsync(StartTimeout);
        return broker;
    }

    public AdminClient CreateAdminClient() => new(RestUrl, AdminKey);

    /// <summary>SIGKILL, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (process is not null)
        {
            await process.KillAsync();
        }
    }

    /// <summary>Starts again on the same ports and data dir (kills a running one first).</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        await LaunchAsync(StartTimeout);
    }

    /// <summary>SIGTERM, as an orderly shutdown or a rolling restart would (SIGKILL after <paramref name="grace"/>).</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (process is not null)
        {
            await process.StopAsync(grace);
        }
    }

    /// <summary>
    /// Starts again on the same ports and data dir after <see cref="StopAsync"/> or <see cref="KillAsync"/>;
    /// <paramref name="healthyWithin"/> replaces the 60 s the broker normally gets to answer /healthz.
    /// </summary>
    public Task StartAgainAsync(TimeSpan? healthyWithin = null) =>
        IsRunning ? throw new InvalidOperationException("The broker is still running.") : LaunchAsync(healthyWithin ?? StartTimeout);

    public string LogTail(int lines = 40) => process?.LogTail(lines) ?? "(broker never started)";

    /// <summary>Sends a signal by name (e.g. HUP to reload settings).</summary>
    public Task SignalAsync(string signal) => process?.SignalAsync(signal) ?? Task.CompletedTask;

    private async Task LaunchAsync(TimeSpan startTimeout)
    {
        var environment = ProcessRunner.BaseEnvironment(directory.Sub(launch.Name + "-home"));
        foreach (var (name, value) in launch.Environment ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }
        process = BackgroundProcess.Start(
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Artifacts.BrokerDll, "serve", "--data-dir", DataDirectory, "--rest-url", RestUrl, "--grpc-url", GrpcUrl, .. launch.Arguments ?? []],
            environment,
            LogFile);

        var healthy = await Poll.UntilAsync(async () => process.HasExited || await IsHealthyAsync(), startTimeout);
        if (!healthy || process.HasExited)
        {
            var state = process.HasExited ? $"exited with {process.ExitCode}" : "still running";
            await process.KillAsync();
            throw new InvalidOperationException(
                $"Broker did not answer GET {RestUrl}/healthz within {startTimeout.TotalSeconds} s ({state}).\n{process.LogTail()}");
        }

        if (!launch.WritesAdminKey)
        {
            return;
        }
        var keyFile = Path.Combine(DataDirectory, "initial-admin-key");
        if (!await Poll.UntilAsync(() => Task.FromResult(File.Exists(keyFile) && new FileInfo(keyFile).Length > 0), TimeSpan.FromSeconds(5)))
        {
            await process.KillAsync();
            throw new InvalidOperationException($"Broker is healthy but wrote no {keyFile}.\n{process.LogTail()}");
        }

        AdminKey = (await File.ReadAllTextAsync(keyFile)).Trim();
    }

    private async Task<bool> IsHealthyAsync()
    {
        try
        {
            using var response = await Probe.GetAsync($"{RestUrl}/healthz");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
        }
    }
}
