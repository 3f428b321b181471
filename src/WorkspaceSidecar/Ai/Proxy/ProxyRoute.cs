using System.Security.Cryptography;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>
/// One provider's loopback proxy: its port (known once bound), the per-run placeholder the tool
/// must present, and where the current real key comes from (asked per request, so a rotated key
/// is used on the next request).
/// </summary>
internal sealed class ProxyRoute(AiProvider provider, string credentialId, Func<CancellationToken, Task<AiKeyResponse>> keySource)
{
    public AiProvider Provider { get; } = provider;

    public string CredentialId { get; } = credentialId;

    /// <summary>Random per run; worthless once the run ends and its listener closes.</summary>
    public string Placeholder { get; } = NewPlaceholder();

    public int Port { get; internal set; }

    /// <summary>The exact Host header the tool must send.</summary>
    public string Authority => $"127.0.0.1:{Port}";

    /// <summary>The base URL the tool is given: the proxy plus the path its SDK expects.</summary>
    public string LocalBaseUrl => $"http://{Authority}{Provider.LocalPrefix}";

    public Task<AiKeyResponse> GetKeyAsync(CancellationToken cancellationToken) => keySource(cancellationToken);

    private static string NewPlaceholder() =>
        "xares-placeholder-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}
