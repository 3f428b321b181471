using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Deploy;

/// <summary>`xares-broker health` (the broker image's HEALTHCHECK) against a real broker, found through XARES_REST_URL as in the image.</summary>
public sealed class HealthCommandTests : IDisposable
{
    private readonly ScratchDirectory directory = ScratchDirectory.Create("xhealth-");

    [Fact]
    public async Task Health_ReadyBrokerThenStopped_ExitsZeroThenOne()
    {
        var broker = await BrokerProcess.StartAsync(directory);
        await using (broker)
        {
            var ready = await HealthAsync(broker.RestUrl).ShouldSucceedAsync();
            Assert.Equal($"{broker.RestUrl}/readyz: ready", ready.Stdout.Trim());
        }

        var stopped = await HealthAsync(broker.RestUrl).ShouldFailAsync();
        Assert.Equal(1, stopped.ExitCode);
        Assert.Contains("no answer", stopped.Stderr);
    }

    private Task<CommandResult> HealthAsync(string restUrl)
    {
        var environment = ProcessRunner.BaseEnvironment(directory.Sub("home"));
        environment["XARES_REST_URL"] = restUrl.Replace("127.0.0.1", "0.0.0.0", StringComparison.Ordinal);
        return ProcessRunner.RunAsync(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Artifacts.BrokerDll, "health", "--timeout-seconds", "10"], environment, Path.Combine(directory.Logs, "health.log"));
    }

    public void Dispose() => directory.Dispose();
}
