using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Xares.Broker.Hosting;

/// <summary>
/// Optional mTLS on the gRPC listener: every sidecar connection must present a client certificate
/// that chains to the bundle of --grpc-client-ca (and only to it, not the system's roots). The
/// session token still decides which workspace a call acts for; the certificate only keeps
/// anything without one from reaching the service.
/// </summary>
internal sealed class SidecarClientCertificates(X509Certificate2Collection roots)
{
    public static SidecarClientCertificates? Load(string? bundleFile)
    {
        if (bundleFile is null)
        {
            return null;
        }
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(bundleFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException)
        {
            throw new InvalidOperationException($"--grpc-client-ca {bundleFile}: {e.Message.TrimEnd('.')}.");
        }
        return roots.Count > 0 ? new SidecarClientCertificates(roots) : throw new InvalidOperationException($"--grpc-client-ca {bundleFile} holds no PEM certificate.");
    }

    public void Require(HttpsConnectionAdapterOptions https)
    {
        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        https.ClientCertificateValidation = (certificate, _, _) => IsTrusted(certificate);
    }

    private bool IsTrusted(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2")); // client authentication
        return chain.Build(certificate);
    }
}
