using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xares.DevKit;

namespace Xares.EndToEnd.Tests.Operations;

/// <summary>
/// A broker on a private CA with mTLS on its gRPC listener, and real sidecars: one given the CA
/// bundle and a client certificate connects; one without the client certificate, and one that
/// trusts only the system's roots, never get a session.
/// </summary>
public sealed class BrokerTlsTests
{
    [Fact]
    public async Task PrivateCaAndClientCertificate_OnlyTheRightSidecarConnects()
    {
        using var directory = ScratchDirectory.Create("xe-tls-");
        var pki = new TestPki(directory.Sub("pki"));
        await using var broker = await BrokerProcess.StartAsync(directory, new BrokerLaunch(GrpcTls: true, Arguments:
            ["--tls-cert", pki.ServerCertificate, "--tls-key", pki.ServerKey, "--grpc-client-ca", pki.CaBundle]));
        using var admin = broker.CreateAdminClient();
        var user = await admin.CreateUserAsync("tls");

        var good = await admin.CreateWorkspaceAsync(user, "tls-good");
        await using var connected = await SidecarProcess.StartAsync(directory, broker.GrpcUrl, good.BootstrapToken, "sc-good",
            extraArguments: ["--broker-ca", pki.CaBundle, "--broker-client-cert", pki.ClientCertificate, "--broker-client-key", pki.ClientKey]);
        Assert.True(await connected.IsConnectedAsync());

        var noClientCertificate = await admin.CreateWorkspaceAsync(user, "tls-no-client-cert");
        await using var refused = await SidecarProcess.StartAsync(directory, broker.GrpcUrl, noClientCertificate.BootstrapToken, "sc-nocert",
            waitUntilConnected: false, extraArguments: ["--broker-ca", pki.CaBundle]);
        var systemRoots = await admin.CreateWorkspaceAsync(user, "tls-system-roots");
        await using var untrusting = await SidecarProcess.StartAsync(directory, broker.GrpcUrl, systemRoots.BootstrapToken, "sc-roots",
            waitUntilConnected: false, extraArguments: ["--broker-client-cert", pki.ClientCertificate, "--broker-client-key", pki.ClientKey]);

        // Each has tried (and failed) to open its session; neither bootstrap token was spent.
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(TriedAndFailed(refused) && TriedAndFailed(untrusting)), TimeSpan.FromSeconds(20)),
            refused.LogTail() + untrusting.LogTail());
        Assert.False(await refused.IsConnectedAsync());
        Assert.False(await untrusting.IsConnectedAsync());
        var workspaces = await admin.ListWorkspacesAsync();
        Assert.Single(workspaces, w => AdminClient.IdOf(w) == good.Id && w.GetProperty("activeSessions").GetArrayLength() == 1);
        Assert.All(workspaces.Where(w => AdminClient.IdOf(w) != good.Id), w => Assert.Equal(0, w.GetProperty("activeSessions").GetArrayLength()));
    }

    private static bool TriedAndFailed(SidecarProcess sidecar) =>
        File.ReadAllText(sidecar.LogFile).Contains("\"@l\":\"Warning\"", StringComparison.Ordinal);

    /// <summary>A private CA with a server certificate for 127.0.0.1 and a client certificate, as PEM files.</summary>
    internal sealed class TestPki
    {
        public TestPki(string folder)
        {
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caRequest = new CertificateRequest("CN=xares test CA", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            CaBundle = Write(folder, "ca.pem", ca.ExportCertificatePem());
            (ServerCertificate, ServerKey) = Issue(folder, "server", ca, "1.3.6.1.5.5.7.3.1", IPAddress.Loopback);
            (ClientCertificate, ClientKey) = Issue(folder, "client", ca, "1.3.6.1.5.5.7.3.2", null);
        }

        public string CaBundle { get; }

        public string ServerCertificate { get; }

        public string ServerKey { get; }

        public string ClientCertificate { get; }

        public string ClientKey { get; }

        private static (string Certificate, string Key) Issue(string folder, string name, X509Certificate2 ca, string usage, IPAddress? address)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN=xares test {name}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
            if (address is not null)
            {
                var names = new SubjectAlternativeNameBuilder();
                names.AddIpAddress(address);
                request.CertificateExtensions.Add(names.Build());
            }
            using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(12));
            return (Write(folder, $"{name}.pem", issued.ExportCertificatePem()), Write(folder, $"{name}-key.pem", key.ExportPkcs8PrivateKeyPem()));
        }

        private static string Write(string folder, string file, string pem)
        {
            var path = Path.Combine(folder, file);
            File.WriteAllText(path, pem);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return path;
        }
    }
}
