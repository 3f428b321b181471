using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet;
using Xares.Broker.Docker;

namespace Xares.Broker.Tests.Docker;

/// <summary>Clients for unix and tcp:// engines: the client certificate wired in, the engine's certificate checked against its CA only.</summary>
public sealed class DockerClientsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xares-docker-tls-").FullName;
    private readonly X509Certificate2 _ca = NewCa("engine CA");

    [Fact]
    public void Create_TcpWithTls_PresentsTheClientCertificate()
    {
        using var client = DockerClients.Create(TlsEngine());

        Assert.True(client.Configuration.Credentials.IsTlsCredentials());
        Assert.Equal(new Uri("tcp://127.0.0.1:2376"), client.Configuration.EndpointBaseUri);
    }

    [Fact]
    public void Create_Unix_NoTls()
    {
        using var client = DockerClients.Create(DockerEndpoint.Unix("unix:///run/docker.sock"));

        Assert.False(client.Configuration.Credentials.IsTlsCredentials());
    }

    [Fact]
    public void Create_UnreadableKey_StartUpErrorNamesEngineAndFile()
    {
        var engine = TlsEngine();
        File.WriteAllText(engine.Tls!.KeyFile, "not a key");

        var error = Assert.Throws<InvalidOperationException>(() => DockerClients.Create(engine));

        Assert.Contains($"Docker engine 'east': cannot read TLS file {engine.Tls.CertificateFile}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsSignedBy_OnlyCertificatesOfTheEnginesCaWithItsName()
    {
        using var signed = Issue(_ca, "engine", serverAuth: true);
        using var stranger = NewCa("another CA");
        using var foreign = Issue(stranger, "engine", serverAuth: true);

        Assert.True(DockerClients.IsSignedBy(_ca, signed, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(DockerClients.IsSignedBy(_ca, foreign, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(DockerClients.IsSignedBy(_ca, signed, SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.False(DockerClients.IsSignedBy(_ca, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_directory, true);
    }

    private DockerEndpoint TlsEngine()
    {
        using var client = Issue(_ca, "xares-broker", serverAuth: false);
        var tls = new DockerTls(Path.Combine(_directory, "ca.pem"), Path.Combine(_directory, "cert.pem"), Path.Combine(_directory, "key.pem"));
        File.WriteAllText(tls.CaFile, _ca.ExportCertificatePem());
        File.WriteAllText(tls.CertificateFile, client.ExportCertificatePem());
        File.WriteAllText(tls.KeyFile, client.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return new DockerEndpoint("east", new Uri("tcp://127.0.0.1:2376"), tls);
    }

    internal static X509Certificate2 NewCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    internal static X509Certificate2 Issue(X509Certificate2 ca, string name, bool serverAuth)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }
}
