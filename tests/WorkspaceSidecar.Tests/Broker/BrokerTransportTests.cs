using System.Net.Security;
using Xares.Sidecar.Broker;

namespace Xares.Sidecar.Tests.Broker;

/// <summary>Unreadable or half-given TLS files stop the start with a message naming the file; no default changes without them.</summary>
public sealed class BrokerTransportTests
{
    [Fact]
    public void Default_LeavesTheSystemsTrustAndNoClientCertificate()
    {
        var ssl = new SslClientAuthenticationOptions();

        BrokerTransport.Default.Configure(ssl);

        Assert.Null(ssl.RemoteCertificateValidationCallback);
        Assert.Null(ssl.ClientCertificates);
    }

    [Fact]
    public void CaBundleWithoutCertificates_Refused()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "not a certificate");
        try
        {
            var error = Assert.Throws<SidecarException>(() => new BrokerTransport(CaFile: file).Configure(new SslClientAuthenticationOptions()));
            Assert.Contains(file, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ClientCertificateWithoutKey_Refused() =>
        Assert.Contains("--broker-client-key", Assert.Throws<SidecarException>(() =>
            new BrokerTransport(ClientCertificateFile: "/nonexistent/client.pem").Configure(new SslClientAuthenticationOptions())).Message, StringComparison.Ordinal);

    [Fact]
    public void MissingCaBundle_NamedInTheError() =>
        Assert.Contains("/nonexistent/ca.pem", Assert.Throws<SidecarException>(() =>
            new BrokerTransport(CaFile: "/nonexistent/ca.pem").Configure(new SslClientAuthenticationOptions())).Message, StringComparison.Ordinal);
}
