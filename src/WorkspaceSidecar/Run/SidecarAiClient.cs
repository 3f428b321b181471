using System.Net.Sockets;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Local;

namespace Xares.Sidecar.Run;

/// <summary>`run` and `env` talking to the sidecar: every call bounded, every failure a <see cref="SidecarException"/>.</summary>
internal sealed class SidecarAiClient(string socketPath)
{
    // The sidecar answers within its own broker deadline (3 s); this only bounds a stuck socket.
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(6);

    /// <summary>The owner's AI credentials this workspace may use, and those its policy excludes.</summary>
    public async Task<AiCredentialsResponse> ListAsync(CancellationToken cancellationToken)
    {
        var response = await SendAsync(new SidecarRequest { AiCredentials = new AiCredentialsRequest() }, cancellationToken);
        return LocalSocketClient.Expect(response, SidecarResponse.ResponseOneofCase.AiCredentials).AiCredentials;
    }

    /// <summary>The current key; a limit reached or a vanished credential come back in the response, not as an exception.</summary>
    public async Task<AiKeyResponse> KeyAsync(string provider, string credentialId, string mode, CancellationToken cancellationToken)
    {
        var response = await SendAsync(
            new SidecarRequest { AiKey = new AiKeyRequest { Provider = provider, CredentialId = credentialId, Mode = mode } },
            cancellationToken);
        return LocalSocketClient.Expect(response, SidecarResponse.ResponseOneofCase.AiKey).AiKey;
    }

    /// <summary>A key that must exist now (inject mode, and the proxy's check before the tool starts).</summary>
    public async Task<AiKeyResponse> RequireKeyAsync(string provider, string credentialId, string mode, CancellationToken cancellationToken)
    {
        var key = await KeyAsync(provider, credentialId, mode, cancellationToken);
        if (key.Found)
        {
            return key;
        }
        throw new SidecarException(key.LimitReached
            ? $"the {provider} credential {key.CredentialId} has reached its monthly limit"
            : key.ExcludedHost.Length > 0
                ? ToolPlan.PolicyExcludes([new ExcludedAiCredential { CredentialId = key.CredentialId, Provider = provider, Host = key.ExcludedHost }])
                : $"no {provider} credential is available to this workspace");
    }

    /// <summary>
    /// Asks the sidecar to open this run's proxies; they stay open until the returned connection is
    /// disposed (or this process ends, which closes it too).
    /// </summary>
    public async Task<OpenedProxy> OpenProxyAsync(OpenProxyRequest request, CancellationToken cancellationToken)
    {
        var (response, connection) = await LocalSocketClient.SendAndHoldAsync(socketPath, new SidecarRequest { OpenProxy = request }, CallTimeout, cancellationToken);
        try
        {
            return new OpenedProxy(LocalSocketClient.Expect(response, SidecarResponse.ResponseOneofCase.OpenProxy).OpenProxy.Endpoints, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private Task<SidecarResponse> SendAsync(SidecarRequest request, CancellationToken cancellationToken) =>
        LocalSocketClient.SendAsync(socketPath, request, verifyPeer: null, cancellationToken, CallTimeout);
}

/// <summary>A run's open proxies: disposing it closes the connection, and the sidecar closes them.</summary>
internal sealed class OpenedProxy(IReadOnlyList<ProxyEndpoint> endpoints, Socket connection) : IDisposable
{
    public IReadOnlyList<ProxyEndpoint> Endpoints { get; } = endpoints;

    public void Dispose() => connection.Dispose();
}
