using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xares.Sidecar.Broker;

/// <summary>
/// How the sidecar reaches its brokers beyond the URL: a CA bundle for a broker whose certificate a
/// private CA signed (instead of the system's roots), a client certificate for brokers that
/// require mTLS, and the explicit opt-in for plaintext to a broker whose traffic a service mesh
/// encrypts (rule i otherwise allows http:// on loopback only).
/// </summary>
internal sealed record BrokerTransport(string? CaFile = null, string? ClientCertificateFile = null, string? ClientKeyFile = null, bool PlaintextMesh = false)
{
    public static readonly BrokerTransport Default = new();

    /// <summary>Applies the CA bundle and client certificate; a file that cannot be read stops the start.</summary>
    public void Configure(SslClientAuthenticationOptions ssl)
    {
        if (CaFile is not null)
        {
            var roots = new X509Certificate2Collection();
            try
            {
                roots.ImportFromPemFile(CaFile);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new SidecarException($"broker CA bundle {CaFile}: {e.Message.TrimEnd('.')}");
            }
            if (roots.Count == 0)
            {
                throw new SidecarException($"broker CA bundle {CaFile} holds no PEM certificate");
            }
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustedBy(roots, certificate, errors);
        }
        if (ClientCertificateFile is not null || ClientKeyFile is not null)
        {
            if (ClientCertificateFile is null || ClientKeyFile is null)
            {
                throw SidecarException.Setting("a broker client certificate needs both --broker-client-cert and --broker-client-key");
            }
            try
            {
                ssl.ClientCertificates = [X509Certificate2.CreateFromPemFile(ClientCertificateFile, ClientKeyFile)];
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new SidecarException($"broker client certificate {ClientCertificateFile}: {e.Message.TrimEnd('.')}");
            }
        }
    }

    // The name must still match; only the trust anchors change (the bundle, not the system's roots).
    private static bool TrustedBy(X509Certificate2Collection roots, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }
        using var certificate = new X509Certificate2(presented);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
