using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.DevKit;
using Xares.Protos.Broker.V1;

namespace Xares.EndToEnd.Tests.Operations;

/// <summary>
/// The published broker started from a settings file (`--config`): SIGHUP applies a new log level
/// and a new TLS certificate without a restart, while an open sidecar stream carries on; a
/// reload with a bad setting changes nothing.
/// </summary>
public sealed class SettingsReloadTests
{
    [Fact]
    public async Task Hangup_NewLogLevelAndCertificate_OpenStreamKept()
    {
        using var directory = ScratchDirectory.Create("xe-reload-");
        var (certificate, key) = (directory.Sub("tls") + "/cert.pem", directory.Sub("tls") + "/key.pem");
        var first = WriteCertificate(certificate, key);
        var config = Path.Combine(directory.Path, "xares.json");
        WriteSettings(config, "Warning", certificate, key);
        await using var broker = await BrokerProcess.StartAsync(directory, new BrokerLaunch(Arguments: ["--config", config], GrpcTls: true));
        using var admin = broker.CreateAdminClient();
        var user = await admin.CreateUserAsync("reload");
        var credential = AdminClient.IdOf(await admin.CreateGitCredentialAsync(user, "https://git.reload.test", "alice", "reload-secret-" + Guid.NewGuid().ToString("N")));
        var workspace = await admin.CreateWorkspaceAsync(user, "reload");

        using var before = Channel(broker.GrpcUrl, out var seenBefore);
        var client = new SidecarBroker.SidecarBrokerClient(before);
        var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = workspace.BootstrapToken });
        var auth = new Metadata { { "authorization", $"Bearer {grant.SessionToken}" } };
        using var stream = client.WatchRevocations(new WatchRevocationsRequest { AfterSequence = grant.RevocationSequence }, auth);
        await stream.ResponseHeadersAsync;
        Assert.Equal(first, seenBefore());
        await HealthzAsync(broker);
        Assert.False(await HealthzLoggedAsync(broker)); // Debug, below Warning

        var second = WriteCertificate(certificate, key);
        WriteSettings(config, "Debug", certificate, key);
        await broker.SignalAsync("HUP");
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(File.ReadAllText(broker.LogFile).Contains("settings reloaded", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10)), broker.LogTail());

        Assert.True(broker.IsRunning);
        await HealthzAsync(broker);
        Assert.True(await HealthzLoggedAsync(broker));
        using var after = Channel(broker.GrpcUrl, out var seenAfter);
        await new SidecarBroker.SidecarBrokerClient(after).ListGitTargetsAsync(new ListGitTargetsRequest(), auth);
        Assert.Equal(second, seenAfter());
        // The stream opened before the reload still delivers.
        await admin.DeleteCredentialAsync(credential);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.True(await stream.ResponseStream.MoveNext(deadline.Token));
        Assert.Equal(RevocationEvent.Types.Kind.Credential, stream.ResponseStream.Current.Kind);
    }

    [Fact]
    public async Task Hangup_BadSetting_NothingChanges()
    {
        using var directory = ScratchDirectory.Create("xe-reload-");
        var config = Path.Combine(directory.Path, "xares.json");
        File.WriteAllText(config, """{ "log-level": "Warning" }""");
        await using var broker = await BrokerProcess.StartAsync(directory, new BrokerLaunch(Arguments: ["--config", config]));

        File.WriteAllText(config, """{ "log-level": "Loud", "lease-ttl-seconds": 0 }""");
        await broker.SignalAsync("HUP");

        Assert.True(await Poll.UntilAsync(() => Task.FromResult(File.ReadAllText(broker.LogFile).Contains("reload refused", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10)), broker.LogTail());
        var refusal = File.ReadAllLines(broker.LogFile).Single(l => l.Contains("reload refused", StringComparison.Ordinal));
        Assert.Contains("log-level", refusal, StringComparison.Ordinal);
        Assert.Contains("lease-ttl-seconds", refusal, StringComparison.Ordinal);
        Assert.True(broker.IsRunning);
        await HealthzAsync(broker);
        Assert.False(await HealthzLoggedAsync(broker));
    }

    private static void WriteSettings(string path, string level, string certificate, string key) =>
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["log-level"] = level,
            ["tls-cert"] = certificate,
            ["tls-key"] = key,
        }));

    /// <summary>A fresh self-signed certificate for 127.0.0.1 in PEM files; returns its thumbprint.</summary>
    private static string WriteCertificate(string certificatePath, string keyPath)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=xares reload test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        return certificate.Thumbprint;
    }

    /// <summary>A gRPC channel that accepts the test's self-signed certificate and remembers the one the broker presented.</summary>
    private static GrpcChannel Channel(string url, out Func<string?> presented)
    {
        string? thumbprint = null;
        presented = () => thumbprint;
        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    thumbprint = certificate?.GetCertHashString();
                    return certificate is not null;
                },
            },
        };
        return GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = handler });
    }

    private static async Task HealthzAsync(BrokerProcess broker)
    {
        using var http = new HttpClient();
        (await http.GetAsync($"{broker.RestUrl}/healthz")).EnsureSuccessStatusCode();
    }

    /// <summary>Whether GET /healthz left an access line (Debug) within a second of the request.</summary>
    private static Task<bool> HealthzLoggedAsync(BrokerProcess broker) =>
        Poll.UntilAsync(() => Task.FromResult(File.ReadAllLines(broker.LogFile)
            .Any(l => l.Contains("RequestLoggingMiddleware", StringComparison.Ordinal) && l.Contains("/healthz", StringComparison.Ordinal))), TimeSpan.FromSeconds(1));
}
