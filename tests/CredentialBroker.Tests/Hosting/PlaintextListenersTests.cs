using System.Net;
using Xares.Broker.Hosting;

namespace Xares.Broker.Tests.Hosting;

/// <summary>Rule i with --plaintext-behind-proxy: plaintext only on loopback, or on non-public addresses when TLS ends in front.</summary>
public sealed class PlaintextListenersTests
{
    private static readonly Func<IEnumerable<IPAddress>> PrivateHost = () => [IPAddress.Loopback, IPAddress.Parse("10.1.2.3"), IPAddress.Parse("fd00::5")];
    private static readonly Func<IEnumerable<IPAddress>> PublicHost = () => [IPAddress.Parse("10.1.2.3"), IPAddress.Parse("203.0.113.7")];

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.4", true)]
    [InlineData("192.168.1.10", true)]
    [InlineData("100.64.0.9", true)]
    [InlineData("fd12:3456::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    public void Allowed(string address, bool needsTheOptIn)
    {
        Assert.Null(PlaintextListeners.Refusal(IPAddress.Parse(address), behindProxy: true, PrivateHost));
        Assert.Equal(needsTheOptIn, PlaintextListeners.Refusal(IPAddress.Parse(address), behindProxy: false, PrivateHost) is not null);
    }

    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("2001:db8::1")]
    public void PublicAddress_RefusedEvenBehindAProxy(string address) =>
        Assert.Contains("public address", PlaintextListeners.Refusal(IPAddress.Parse(address), behindProxy: true, PrivateHost));

    [Fact]
    public void Wildcard_OnlyWhenNoInterfaceIsPublic()
    {
        Assert.Null(PlaintextListeners.Refusal(IPAddress.Any, behindProxy: true, PrivateHost));
        Assert.Null(PlaintextListeners.Refusal(IPAddress.IPv6Any, behindProxy: true, PrivateHost));
        Assert.Contains("203.0.113.7", PlaintextListeners.Refusal(IPAddress.Any, behindProxy: true, PublicHost));
        Assert.NotNull(PlaintextListeners.Refusal(IPAddress.Any, behindProxy: false, PrivateHost));
    }

    [Fact]
    public void OptIn_FromFlagVariableOrFile_TyposRefused()
    {
        Assert.True(Read("serve", "--plaintext-behind-proxy").PlaintextBehindProxy);
        Assert.False(Read("serve").PlaintextBehindProxy);
        var config = Path.Combine(Directory.CreateTempSubdirectory("xares-settings-").FullName, "broker.json");
        File.WriteAllText(config, """{ "plaintext-behind-proxy": true }""");
        Assert.True(Read("serve", "--config", config).PlaintextBehindProxy);
        File.WriteAllText(config, """{ "plaintext-behind-proxy": "yes" }""");
        Assert.Contains("must be true or false", Assert.Throws<SettingsException>(() => Read("serve", "--config", config)).Message, StringComparison.Ordinal);
        Directory.Delete(Path.GetDirectoryName(config)!, recursive: true);
    }

    private static BrokerOptions Read(params string[] args) => BrokerCommandLine.Read(BrokerCommandLine.Create().Parse(args));
}
