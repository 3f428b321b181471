using Xares.EndToEnd.Tests.Infrastructure;
using Xares.EndToEnd.Tests.Operations;

namespace Xares.EndToEnd.Tests.Docker;

/// <summary>
/// A tcp:// engine: a real dockerd with --tlsverify on a loopback port and certificates made here.
/// The broker follows it with the client certificate and the engine's CA; with another CA it does not.
/// </summary>
[Collection(DockerEngineCollection.Name)]
public sealed class TlsEngineTests : IAsyncLifetime
{
    // Short and fixed: dockerd's sockets live under it (unix socket paths are limited to 108 bytes).
    private const string EngineDirectory = "/tmp/xares-docker-tls";

    private readonly ScratchDirectory directory = ScratchDirectory.Create("xdt-");
    private readonly int port = FreePort.Next();
    private DockerEngine engine = null!;
    private BrokerTlsTests.TestPki pki = null!;

    public async Task InitializeAsync()
    {
        var tls = System.IO.Directory.CreateDirectory(Path.Combine(EngineDirectory, "tls")).FullName;
        pki = new BrokerTlsTests.TestPki(tls);
        engine = await DockerEngine.StartWithTlsAsync(Path.Combine(directory.Logs, "docker-tls.log"), EngineDirectory, port);
    }

    public async Task DisposeAsync()
    {
        await engine.StopAsync();
        directory.Dispose();
    }

    [Fact]
    public async Task TcpEngineWithClientCertificate_WatcherConnects_WrongCaRefused()
    {
        await using var broker = await BrokerProcess.StartAsync(directory, new BrokerLaunch("broker-tls", Engine("tls", pki.CaBundle)));
        Assert.True(await Poll.UntilAsync(async () => await DockerWatcherTests.WatcherConnectedAsync(broker, "tls") == 1, TimeSpan.FromSeconds(30)),
            "the watcher did not connect over TLS\n" + broker.LogTail());
        Assert.Contains(File.ReadAllLines(broker.LogFile), line => line.Contains("\"Engine\":\"tls\"", StringComparison.Ordinal)
            && line.Contains("Reconciled", StringComparison.Ordinal));

        var otherCa = new BrokerTlsTests.TestPki(directory.Sub("other-pki")).CaBundle;
        await using var distrusting = await BrokerProcess.StartAsync(directory, new BrokerLaunch("broker-other-ca", Engine("tls", otherCa)));
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(File.ReadAllLines(distrusting.LogFile).Any(line =>
            line.Contains("\"Engine\":\"tls\"", StringComparison.Ordinal) && line.Contains("unreachable", StringComparison.Ordinal))), TimeSpan.FromSeconds(30)),
            "a broker that does not trust the engine's certificate reported nothing\n" + distrusting.LogTail());
        Assert.Equal(0, await DockerWatcherTests.WatcherConnectedAsync(distrusting, "tls"));
    }

    private string[] Engine(string name, string ca) =>
        ["--docker", $"{name}=tcp://127.0.0.1:{port}", "--docker-tls-ca", $"{name}={ca}",
            "--docker-tls-cert", $"{name}={pki.ClientCertificate}", "--docker-tls-key", $"{name}={pki.ClientKey}"];
}
