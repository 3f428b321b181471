namespace Xares.EndToEnd.Tests.Replication;

/// <summary>
/// One published broker process (<c>xares-broker serve --database "Host=…"</c>) of a replica set:
/// its own loopback ports and data dir, the shared PostgreSQL database and master key.
/// </summary>
internal sealed class ReplicaProcess : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly ScratchDirectory directory;
    private readonly string database;
    private readonly string masterKey;
    private BackgroundProcess? process;

    public ReplicaProcess(ScratchDirectory directory, string name, string database, string masterKey)
    {
        this.directory = directory;
        this.database = database;
        this.masterKey = masterKey;
        Name = name;
        DataDirectory = directory.Sub(name + "-data");
        RestUrl = $"http://127.0.0.1:{FreePort.Next()}";
        GrpcUrl = $"http://127.0.0.1:{FreePort.Next()}";
    }

    public string Name { get; }

    public string DataDirectory { get; }

    public string RestUrl { get; }

    public string GrpcUrl { get; }

    public bool IsRunning => process is { HasExited: false };

    public async Task StartAsync()
    {
        var environment = ProcessRunner.BaseEnvironment(directory.Sub(Name + "-home"));
        environment["XARES_MASTER_KEY"] = masterKey;
        environment["XARES_DATABASE"] = database;
        process = BackgroundProcess.Start(
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            // The race tests drive one session far past the default per-session call rate (100/s).
            [Artifacts.BrokerDll, "serve", "--data-dir", DataDirectory, "--rest-url", RestUrl, "--grpc-url", GrpcUrl, "--session-rate", "100000", "--session-burst", "100000"],
            environment,
            Path.Combine(directory.Logs, $"{Name}.log"));
        var healthy = await Poll.UntilAsync(async () => process.HasExited || await IsHealthyAsync(), TimeSpan.FromSeconds(60));
        if (!healthy || process.HasExited)
        {
            await process.KillAsync();
            throw new InvalidOperationException($"Replica {Name} did not become healthy.\n{process.LogTail()}");
        }
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public Task KillAsync() => process?.KillAsync() ?? Task.CompletedTask;

    public string LogTail() => process?.LogTail() ?? "(not started)";

    private async Task<bool> IsHealthyAsync()
    {
        try
        {
            using var response = await Probe.GetAsync($"{RestUrl}/readyz");
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
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
