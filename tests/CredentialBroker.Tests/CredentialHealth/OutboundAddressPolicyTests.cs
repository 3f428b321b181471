using System.Net;
using Xares.Broker.CredentialHealth;

namespace Xares.Broker.Tests.CredentialHealth;

public sealed class OutboundAddressPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("169.254.169.254")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("fc00::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")] // NAT64 of 169.254.169.254
    public void RefusalReason_NonPublicAddress_Refused(string address) =>
        Assert.NotNull(OutboundAddressPolicy.RefusalReason(IPAddress.Parse(address)));

    [Theory]
    [InlineData("140.82.112.5")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:140.82.112.5")]
    public void RefusalReason_PublicAddress_Allowed(string address) =>
        Assert.Null(OutboundAddressPolicy.RefusalReason(IPAddress.Parse(address)));

    [Fact]
    public void RefusalReason_Metadata_NamesLinkLocal() =>
        Assert.Contains("link-local", OutboundAddressPolicy.RefusalReason(IPAddress.Parse("169.254.169.254")), StringComparison.Ordinal);
}

public sealed class OutboundAllowListTests
{
    [Fact]
    public void Admits_CidrAddressAndHostEntries()
    {
        var allow = OutboundAllowList.Parse(["10.0.0.0/8, 127.0.0.1:8080", "git.internal", "gitea.internal:3000 [::1]:9000"]);

        Assert.True(allow.Admits("anything", 443, IPAddress.Parse("10.9.8.7")));
        Assert.True(allow.Admits("anything", 443, IPAddress.Parse("::ffff:10.9.8.7")));
        Assert.True(allow.Admits("127.0.0.1", 8080, IPAddress.Loopback));
        Assert.False(allow.Admits("127.0.0.1", 8081, IPAddress.Loopback));
        Assert.True(allow.Admits("git.internal", 22, IPAddress.Parse("192.168.0.5")));
        Assert.True(allow.Admits("GIT.internal.", 443, IPAddress.Parse("192.168.0.5")));
        Assert.True(allow.Admits("gitea.internal", 3000, IPAddress.Parse("192.168.0.6")));
        Assert.False(allow.Admits("gitea.internal", 3001, IPAddress.Parse("192.168.0.6")));
        Assert.True(allow.Admits("[::1]", 9000, IPAddress.IPv6Loopback));
        Assert.False(allow.Admits("evil.example", 443, IPAddress.Parse("169.254.169.254")));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host/x")]
    [InlineData("host:99999")]
    [InlineData("user@host")]
    public void Parse_BadEntry_ThrowsNamingIt(string entry)
    {
        var error = Assert.Throws<FormatException>(() => OutboundAllowList.Parse([entry]));
        Assert.Contains("--outbound-allow", error.Message, StringComparison.Ordinal);
    }
}
