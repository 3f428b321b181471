using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet;
using Docker.DotNet.X509;

namespace Xares.Broker.Docker;

/// <summary>
/// Docker API clients for the configured engines: a unix socket as it is; a <c>tcp://</c> engine
/// over TLS with the broker's client certificate, its server certificate checked against the
/// engine's own CA only (what `docker --tlsverify` does), host name included.
/// </summary>
internal static class DockerClients
{
    /// <summary>The client; a TLS file that cannot be read is a start-up error naming the engine and file.</summary>
    public static IDockerClient Create(DockerEndpoint engine)
    {
        if (engine.Tls is not { } tls)
        {
            return new DockerClientConfiguration(engine.Url).CreateClient();
        }
        var ca = Load(engine, tls.CaFile, () => X509CertificateLoader.LoadCertificateFromFile(tls.CaFile));
        var client = Load(engine, tls.CertificateFile, () => X509Certificate2.CreateFromPemFile(tls.CertificateFile, tls.KeyFile));
        var credentials = new CertificateCredentials(client) { ServerCertificateValidationCallback = (_, certificate, _, errors) => IsSignedBy(ca, certificate, errors) };
        return new DockerClientConfiguration(engine.Url, credentials).CreateClient();
    }

    /// <summary>The engine's certificate chains to <paramref name="ca"/> (and no other root) and names the host the broker dialled.</summary>
    public static bool IsSignedBy(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(presented);
    }

    private static T Load<T>(DockerEndpoint engine, string file, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            // The exception type only: a message about a key file never carries the key, but say less anyway.
            throw new InvalidOperationException($"Docker engine '{engine.Name}': cannot read TLS file {file} ({ex.GetType().Name}).");
        }
    }
}
