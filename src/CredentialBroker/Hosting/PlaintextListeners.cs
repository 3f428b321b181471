using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Xares.Broker.Hosting;

/// <summary>
/// Which addresses may listen without TLS (rule i). Loopback always. With
/// --plaintext-behind-proxy, also non-public addresses, for a broker whose TLS a proxy, ingress or
/// service mesh terminates in front of it: private and unique-local ranges, link-local, carrier-grade
/// NAT, and a wildcard only when no interface of this host has a public address.
/// </summary>
internal static class PlaintextListeners
{
    private static readonly (IPAddress Network, int Prefix)[] NonPublic =
    [
        (IPAddress.Parse("10.0.0.0"), 8), (IPAddress.Parse("172.16.0.0"), 12), (IPAddress.Parse("192.168.0.0"), 16),
        (IPAddress.Parse("100.64.0.0"), 10), (IPAddress.Parse("169.254.0.0"), 16),
        (IPAddress.Parse("fc00::"), 7), (IPAddress.Parse("fe80::"), 10),
    ];

    /// <summary>Why <paramref name="address"/> may not listen in plaintext, or null when it may.</summary>
    public static string? Refusal(IPAddress address, bool behindProxy, Func<IEnumerable<IPAddress>>? interfaceAddresses = null)
    {
        if (IPAddress.IsLoopback(address))
        {
            return null;
        }
        if (!behindProxy)
        {
            return "only loopback addresses may use http:// (or --plaintext-behind-proxy when a proxy or mesh terminates TLS in front of the broker)";
        }
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            var reachable = (interfaceAddresses ?? HostAddresses)().Where(a => !IPAddress.IsLoopback(a) && !IsNonPublic(a)).ToList();
            return reachable.Count == 0 ? null
                : $"a wildcard listener would also answer on public address {reachable[0]}; name a private address instead";
        }
        return IsNonPublic(address) ? null : $"{address} is a public address; plaintext is allowed behind a proxy only on private, unique-local or link-local addresses";
    }

    public static bool IsNonPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return NonPublic.Any(range => range.Network.AddressFamily == address.AddressFamily && new IPNetwork(range.Network, range.Prefix).Contains(address));
    }

    private static IEnumerable<IPAddress> HostAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(u => u.Address))
            .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6);
}
