using System.Security.Cryptography;
using Xares.DevKit;

namespace Xares.EndToEnd.Tests.Operations;

/// <summary>Rule i at the published broker's start: plaintext off loopback is refused, behind a proxy only on private addresses.</summary>
public sealed class ListenerTests
{
    [Theory]
    [InlineData(false, "only loopback addresses may use http://")]
    [InlineData(true, "203.0.113.7 is a public address")]
    public async Task PlaintextOnAPublicAddress_RefusedWithTheReason(bool behindProxy, string reason)
    {
        using var directory = ScratchDirectory.Create("xe-listen-");
        var environment = ProcessRunner.BaseEnvironment(directory.Sub("home"));
        environment["XARES_MASTER_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string[] arguments = [Artifacts.BrokerDll, "serve", "--data-dir", directory.Sub("data"),
            "--rest-url", "http://127.0.0.1:0", "--grpc-url", "http://203.0.113.7:7401", .. behindProxy ? new[] { "--plaintext-behind-proxy" } : []];

        var result = await ProcessRunner.RunAsync(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", arguments, environment,
            Path.Combine(directory.Logs, "broker.log"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"Refusing to listen on http://203.0.113.7:7401 without TLS: {reason}", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(environment["XARES_MASTER_KEY"], result.Stderr + result.Stdout, StringComparison.Ordinal);
    }
}
