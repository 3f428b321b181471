namespace Xares.Broker.Security;

/// <summary>The only part of a secret ever shown back: its last four characters, like "…f3a9".</summary>
internal static class SecretHint
{
    public static string For(string secret) =>
        secret.Length <= 8 ? "…" : "…" + secret[^4..];
}
