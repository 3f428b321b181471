using System.Net;
using System.Net.Sockets;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// Rule j: which resolved addresses an outbound credential test may connect to. Loopback,
/// link-local (the cloud metadata address 169.254.169.254 included), private, CGNAT and other
/// non-routable ranges are refused unless an <see cref="OutboundAllowList"/> entry admits them.
/// IPv4 embedded in IPv6 (mapped, compatible, NAT64) is judged as the IPv4 address it names.
/// </summary>
internal static class OutboundAddressPolicy
{
    private static readonly (IPNetwork Network, string Reason)[] Refused =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified (\"this network\") address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address (cloud metadata services live there)"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a shared (CGNAT) address"),
        (IPNetwork.Parse("192.0.0.0/24"), "an IETF protocol address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        (IPNetwork.Parse("224.0.0.0/3"), "a multicast or reserved address"),
        (IPNetwork.Parse("::/128"), "an unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("fec0::/10"), "a site-local address"),
        (IPNetwork.Parse("fc00::/7"), "a private (unique local) address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");

    /// <summary>Null when the address is publicly routable; otherwise why it is refused.</summary>
    public static string? RefusalReason(IPAddress address)
    {
        var effective = Unwrap(address);
        foreach (var (network, reason) in Refused)
        {
            if (network.BaseAddress.AddressFamily == effective.AddressFamily && network.Contains(effective))
            {
                return reason;
            }
        }
        return null;
    }

    /// <summary>The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d), or the address itself.</summary>
    public static IPAddress Unwrap(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if ((Nat64.Contains(address) || Compatible.Contains(address)) && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback))
        {
            var bytes = address.GetAddressBytes();
            return new IPAddress(bytes.AsSpan(12, 4));
        }
        return address;
    }
}
