using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xares.Broker.Hosting;

/// <summary>
/// The certificate the https listeners present, read from the PEM files of --tls-cert and
/// --tls-key. Kestrel asks for it at each TLS handshake, so a reload (SIGHUP) reaches new
/// connections while open ones, sidecar streams among them, carry on.
/// </summary>
internal sealed class TlsCertificate
{
    private X509Certificate2? _current;

    public X509Certificate2 Current => Volatile.Read(ref _current) ?? throw new InvalidOperationException("No TLS certificate is loaded.");

    public bool Loaded => Volatile.Read(ref _current) is not null;

    /// <summary>Loads the pair; a missing, unreadable or mismatched pair throws and leaves the current one in place.</summary>
    public void Load(string? certificateFile, string? keyFile, string listener)
    {
        if (certificateFile is null || keyFile is null)
        {
            throw new InvalidOperationException($"{listener} needs --tls-cert and --tls-key (PEM files).");
        }
        try
        {
            Volatile.Write(ref _current, X509Certificate2.CreateFromPemFile(certificateFile, keyFile));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException)
        {
            throw new InvalidOperationException($"--tls-cert {certificateFile} with --tls-key {keyFile}: {e.Message.TrimEnd('.')}.");
        }
    }

    public string Describe() => Volatile.Read(ref _current) is { } certificate
        ? $"{certificate.Subject} (valid until {certificate.NotAfter.ToUniversalTime():u}, SHA-256 {certificate.GetCertHashString(HashAlgorithmName.SHA256)[..16]}…)"
        : "none";
}
