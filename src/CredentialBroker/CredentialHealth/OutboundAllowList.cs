using System.Net;
using Xares.Broker.Credentials.Matching;
using Xares.GitTargets;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// `--outbound-allow` / XARES_OUTBOUND_ALLOW: CIDRs (10.0.0.0/8, fd00::/8), addresses
/// (127.0.0.1, [::1]:8080) and host names (git.internal, git.internal:8443) that outbound
/// credential tests may reach although rule j would refuse them. An entry without a port admits
/// every port. A host-name entry admits whatever that name resolves to, so name only hosts whose
/// DNS you control.
/// </summary>
internal sealed class OutboundAllowList
{
    private readonly List<(IPNetwork Network, int? Port)> _networks = [];
    private readonly List<(string Host, int? Port)> _hosts = [];

    /// <summary>Entries separated by commas or whitespace; throws <see cref="FormatException"/> naming the bad entry.</summary>
    public static OutboundAllowList Parse(IEnumerable<string> values)
    {
        var list = new OutboundAllowList();
        foreach (var entry in values.SelectMany(v => v.Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)))
        {
            if (entry.Contains('/', StringComparison.Ordinal))
            {
                if (!IPNetwork.TryParse(entry, out var network))
                {
                    throw new FormatException($"--outbound-allow entry \"{entry}\" is not a CIDR such as 10.0.0.0/8.");
                }
                list._networks.Add((network, null));
                continue;
            }
            if (!HostPort.TryParse(entry, out var host, out var port, out var error))
            {
                throw new FormatException($"--outbound-allow entry \"{entry}\" is not a CIDR, address or host[:port]: {error}");
            }
            if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
            {
                list._networks.Add((new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128), port));
            }
            else
            {
                list._hosts.Add((host, port));
            }
        }
        return list;
    }

    /// <summary>True when <paramref name="host"/> (as the URL names it) or the address it resolved to is admitted on this port.</summary>
    public bool Admits(string host, int port, IPAddress address)
    {
        var name = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (_hosts.Any(h => string.Equals(h.Host.Trim('[', ']'), name, StringComparison.Ordinal) && (h.Port is null || h.Port == port)))
        {
            return true;
        }
        var unwrapped = OutboundAddressPolicy.Unwrap(address);
        return _networks.Any(n => (n.Port is null || n.Port == port) && (n.Network.Contains(address) || n.Network.Contains(unwrapped)));
    }
}
