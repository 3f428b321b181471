using System.Net;
using System.Net.Sockets;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// The rate-limit partition of a client address. An IPv4 address is its own partition; an IPv6
/// address counts as its /64, the smallest block one subscriber or host is normally handed, so a
/// client cannot buy itself 2^64 fresh buckets by changing the low bits of its address.
/// IPv4-mapped IPv6 addresses are folded to IPv4 first.
/// </summary>
internal static class ClientPartition
{
    public const int IPv6PrefixLength = 64;

    public static string Of(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[(IPv6PrefixLength / 8)..].Clear();
        return $"{new IPAddress(bytes)}/{IPv6PrefixLength}";
    }
}
