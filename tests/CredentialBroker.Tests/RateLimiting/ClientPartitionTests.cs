using System.Net;
using Xares.Broker.RateLimiting;

namespace Xares.Broker.Tests.RateLimiting;

public sealed class ClientPartitionTests
{
    [Theory]
    [InlineData("2001:db8:1:2::a", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:3::a", "2001:db8:1:3::/64")]
    [InlineData("fe80::1%3", "fe80::/64")]
    [InlineData("::1", "::/64")]
    [InlineData("10.1.2.3", "10.1.2.3")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    public void Of_IPv6PerSlash64_IPv4PerAddress(string address, string expected) =>
        Assert.Equal(expected, ClientPartition.Of(IPAddress.Parse(address)));

    [Fact]
    public void Of_AddressesOfOneSlash64_ShareAPartition_NeighboursDoNot()
    {
        var first = ClientPartition.Of(IPAddress.Parse("2001:db8:aa:bb:1::1"));

        Assert.Equal(first, ClientPartition.Of(IPAddress.Parse("2001:db8:aa:bb:9999:8888:7777:6666")));
        Assert.NotEqual(first, ClientPartition.Of(IPAddress.Parse("2001:db8:aa:bc:1::1")));
        Assert.NotEqual(ClientPartition.Of(IPAddress.Parse("10.0.0.1")), ClientPartition.Of(IPAddress.Parse("10.0.0.2")));
    }

    [Fact]
    public void Of_NoAddress_IsUnknown() => Assert.Equal("unknown", ClientPartition.Of(null));
}
