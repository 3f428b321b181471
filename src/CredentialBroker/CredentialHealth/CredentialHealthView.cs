using Xares.Broker.Credentials;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// A credential's health as REST shows it: error (its last test failed, or it has expired),
/// expiring (it expires within the warning window — by its own expiresAt or the expiry its
/// provider reported), active (its last test passed), or unchecked (never tested since its secret
/// was last set).
/// </summary>
internal sealed record CredentialHealthView(string Status, string? Reason, DateTimeOffset? CheckedAt, DateTimeOffset? ExpiresAt, ProviderIdentity? Identity)
{
    public const string Active = "active";
    public const string Error = "error";
    public const string Expiring = "expiring";
    public const string Unchecked = "unchecked";

    public static readonly IReadOnlySet<string> Statuses = new HashSet<string>(StringComparer.Ordinal) { Active, Error, Expiring, Unchecked };

    public static CredentialHealthView Of(CredentialRecord credential, CredentialHealthRow? row, DateTimeOffset now, TimeSpan expiringWindow)
    {
        var current = row is not null && row.SecretVersion == credential.SecretVersion ? row : null;
        DateTimeOffset? expiresAt = (credential.ExpiresAt, current?.ProviderExpiresAt) switch
        {
            ({ } own, { } reported) => own < reported ? own : reported,
            ({ } own, null) => own,
            (null, var reported) => reported,
        };
        var (status, reason) = current switch
        {
            _ when expiresAt <= now => (Error, $"expired at {expiresAt:u}"),
            { Status: CredentialTestResult.Failed } => (Error, current.Reason),
            _ when expiresAt <= now + expiringWindow => (Expiring, $"expires at {expiresAt:u}"),
            { Status: CredentialTestResult.Ok } => (Active, null),
            _ => (Unchecked, null),
        };
        return new CredentialHealthView(status, reason, current?.CheckedAt, expiresAt, current?.Identity);
    }
}
