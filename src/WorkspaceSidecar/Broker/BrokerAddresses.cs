using System.Net;

namespace Xares.Sidecar.Broker;

/// <summary>Parses and vets the broker URL list (rule i: no plaintext gRPC off loopback, unless a mesh encrypts it and the operator says so).</summary>
internal static class BrokerAddresses
{
    public const string PlaintextMeshVariable = "XARES_BROKER_PLAINTEXT_MESH";

    public static IReadOnlyList<Uri> Parse(IEnumerable<string> values, bool plaintextMesh = false)
    {
        var result = new List<Uri>();
        foreach (var value in values)
        {
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                result.Add(ParseOne(part, plaintextMesh));
            }
        }
        if (result.Count == 0)
        {
            throw SidecarException.Setting("no broker URL given: pass --broker or set XARES_BROKER_URL");
        }
        return result;
    }

    public static Uri ParseOne(string value, bool plaintextMesh = false)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw SidecarException.Setting($"broker URL '{value}' is not an absolute http(s) URL");
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw SidecarException.Setting("broker URL must not contain user information");
        }
        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri) && !plaintextMesh)
        {
            throw new SidecarException(
                $"refusing plaintext broker URL {uri.GetLeftPart(UriPartial.Authority)}: http:// is allowed only for loopback brokers; use https://, "
                + $"or set {PlaintextMeshVariable}=true where a service mesh encrypts the traffic to the broker");
        }
        return uri;
    }

    public static bool IsLoopback(Uri uri)
    {
        var host = uri.IdnHost.TrimEnd('.');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }
}
