namespace Xares.Broker.Credentials;

/// <summary>
/// How an AI credential's key may reach a workspace. <see cref="Proxy"/>: only through the
/// sidecar's proxy, so no workspace process ever holds it (inject leases and `env` are refused);
/// <see cref="Any"/>: inject mode too. New AI credentials are proxy-only unless asked otherwise.
/// </summary>
internal static class CredentialDelivery
{
    public const string Proxy = "proxy";
    public const string Any = "any";

    public static bool IsKnown(string? value) => value is Proxy or Any;
}
