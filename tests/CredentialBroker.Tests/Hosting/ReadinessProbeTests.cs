using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xares.Broker.Hosting;

namespace Xares.Broker.Tests.Hosting;

/// <summary>`xares-broker health`: where it asks, and which certificate it accepts.</summary>
public sealed class ReadinessProbeTests
{
    [Theory]
    [InlineData("http://127.0.0.1:7400", "http://127.0.0.1:7400/readyz")]
    [InlineData("http://0.0.0.0:7400", "http://127.0.0.1:7400/readyz")]
    [InlineData("http://*:7400", "http://127.0.0.1:7400/readyz")]
    [InlineData("http://+:7400", "http://127.0.0.1:7400/readyz")]
    [InlineData("https://[::]:7400", "https://[::1]:7400/readyz")]
    [InlineData("https://xares.internal:7400/", "https://xares.internal:7400/readyz")]
    public void ProbeUri_Listener_AsksLoopbackForWildcards(string listener, string expected) =>
        Assert.Equal(expected, ReadinessProbe.ProbeUri(listener).ToString());

    [Fact]
    public void Trust_PinnedCertificate_AcceptedDespiteNameMismatch()
    {
        using var pinned = SelfSigned("xares.internal");
        using var other = SelfSigned("xares.internal");

        Assert.True(ReadinessProbe.Trust(pinned, pinned, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(ReadinessProbe.Trust(pinned, other, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(ReadinessProbe.Trust(null, other, SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.True(ReadinessProbe.Trust(null, other, SslPolicyErrors.None));
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create();
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
