using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// `--trusted-proxy`: only when the TCP peer is one of these is X-Forwarded-For believed, and then
/// the client is the rightmost hop that is not itself a trusted proxy. Without the list the peer
/// is the client, so nobody can pick their own rate-limit partition by sending a header.
/// </summary>
internal static class TrustedProxies
{
    /// <summary>Parses IPs and CIDRs; an entry that is neither stops the start with a clear message.</summary>
    public static (List<IPAddress> Proxies, List<IPNetwork> Networks) Parse(IEnumerable<string> entries)
    {
        var proxies = new List<IPAddress>();
        var networks = new List<IPNetwork>();
        foreach (var raw in entries)
        {
            var entry = raw.Trim();
            if (entry.Length == 0)
            {
                continue;
            }
            if (entry.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                proxies.Add(address);
            }
            else
            {
                throw new InvalidOperationException($"--trusted-proxy: '{entry}' is neither an IP address nor a CIDR range (e.g. 10.0.0.0/8).");
            }
        }
        return (proxies, networks);
    }

    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IReadOnlyList<string> entries)
    {
        var (proxies, networks) = Parse(entries);
        services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            // The framework trusts loopback by default; only what the operator listed counts.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            proxies.ForEach(forwarded.KnownProxies.Add);
            networks.ForEach(forwarded.KnownIPNetworks.Add);
            // Walk right to left through every trusted hop; stop at the first untrusted one.
            forwarded.ForwardLimit = null;
        });
        return services;
    }

    /// <summary>The client address as a stable partition key (IPv4-mapped IPv6 folded to IPv4).</summary>
    public static string ClientKey(IPAddress? address) =>
        address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}
