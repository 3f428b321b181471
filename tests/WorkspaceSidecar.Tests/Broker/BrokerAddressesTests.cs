using Xares.Sidecar.Broker;

namespace Xares.Sidecar.Tests.Broker;

public sealed class BrokerAddressesTests
{
    [Theory]
    [InlineData("http://10.0.0.5:7401")]
    [InlineData("http://broker.internal:7401")]
    [InlineData("http://localhost.evil.com:7401")]
    [InlineData("http://128.0.0.1:7401")]
    public void Parse_PlaintextOffLoopback_Refused(string url)
    {
        var error = Assert.Throws<SidecarException>(() => BrokerAddresses.Parse([url]));
        Assert.Contains("plaintext", error.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7401")]
    [InlineData("http://127.8.9.10:7401")]
    [InlineData("http://localhost:7401")]
    [InlineData("http://[::1]:7401")]
    [InlineData("https://broker.example.com")]
    [InlineData("https://10.0.0.5:7401")]
    public void Parse_LoopbackOrTls_Accepted(string url)
    {
        Assert.Equal(new Uri(url), Assert.Single(BrokerAddresses.Parse([url])));
    }

    [Fact]
    public void Parse_CommaSeparatedAndRepeated_KeepsOrder()
    {
        var urls = BrokerAddresses.Parse(["https://a.example, https://b.example", "https://c.example"]);

        Assert.Equal(["a.example", "b.example", "c.example"], urls.Select(u => u.Host));
    }

    [Theory]
    [InlineData("ftp://broker")]
    [InlineData("broker:7401")]
    [InlineData("https://user:pw@broker.example")]
    public void Parse_NotAnHttpUrl_Refused(string url)
    {
        Assert.Throws<SidecarException>(() => BrokerAddresses.Parse([url]));
    }

    [Fact]
    public void Parse_Nothing_RefusedWithHint()
    {
        Assert.Contains("XARES_BROKER_URL", Assert.Throws<SidecarException>(() => BrokerAddresses.Parse([])).Message);
    }

    [Fact]
    public void Parse_PlaintextOffLoopback_OnlyWithTheMeshOptIn()
    {
        var refusal = Assert.Throws<SidecarException>(() => BrokerAddresses.Parse(["http://broker.mesh.internal:7401"]));
        Assert.Contains(BrokerAddresses.PlaintextMeshVariable, refusal.Message, StringComparison.Ordinal);

        Assert.Equal("broker.mesh.internal", Assert.Single(BrokerAddresses.Parse(["http://broker.mesh.internal:7401"], plaintextMesh: true)).Host);
    }
}
