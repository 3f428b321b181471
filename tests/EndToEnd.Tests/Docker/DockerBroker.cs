namespace Xares.EndToEnd.Tests.Docker;

/// <summary>
/// The published broker started with <c>--docker</c> (the DevKit's broker has no such option):
/// same data dir and ports across <see cref="RestartAsync"/>, so a restart meets its own database.
/// </summary>
internal sealed class DockerBroker : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly ScratchDirectory directory;
    private readonly string dockerEndpoint;
    private BackgroundProcess? process;

    public DockerBroker(ScratchDirectory directory, string dockerEndpoint)
    {
        this.directory = directory;
        this.dockerEndpoint = dockerEndpoint;
        DataDirectory = directory.Sub("broker-data");
        RestUrl = $"http://127.0.0.1:{FreePort.Next()}";
        GrpcUrl = $"http://127.0.0.1:{FreePort.Next()}";
    }

    public string DataDirectory { get; }

    public string RestUrl { get; }

    public string GrpcUrl { get; }

    public string AdminKey { get; private set; } = "";

    public string LogFile => Path.Combine(directory.Logs, "broker.log");

    public async Task StartAsync()
    {
        process = BackgroundProcess.Start(
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Artifacts.BrokerDll, "serve", "--data-dir", DataDirectory, "--rest-url", RestUrl, "--grpc-url", GrpcUrl, "--docker", dockerEndpoint],
            ProcessRunner.BaseEnvironment(directory.Sub("broker-home")),
            LogFile);
        var healthy = await Poll.UntilAsync(async () => process.HasExited || await IsHealthyAsync(), TimeSpan.FromSeconds(60));
        if (!healthy || process.HasExited)
        {
            throw new InvalidOperationException("The broker did not start.\n" + process.LogTail());
        }
        var keyFile = Path.Combine(DataDirectory, "initial-admin-key");
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(File.Exists(keyFile)), TimeSpan.FromSeconds(5)), "no initial-admin-key");
        AdminKey = (await File.ReadAllTextAsync(keyFile)).Trim();
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public Task KillAsync() => process?.KillAsync() ?? Task.CompletedTask;

    public string LogTail() => process?.LogTail(60) ?? "(not started)";

    private async Task<bool> IsHealthyAsync()
    {
        try
        {
            using var response = await Probe.GetAsync($"{RestUrl}/healthz");
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
