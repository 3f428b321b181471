using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Xares.Broker.CredentialHealth;

namespace Xares.Broker.Credentials;

/// <summary>
/// POST /api/v1/users/{userId}/credentials. Every field is optional at the JSON level so that
/// a missing one is reported per field; unknown members are refused (a misspelt "secret" must
/// not silently create a credential without one).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record CreateCredentialRequest(
    string? Kind,
    string? Provider,
    string? Url,
    string? Username,
    string? Secret,
    string? Name,
    DateTimeOffset? ExpiresAt,
    string? BaseUrl,
    [property: Description("A whole number from 1 limits the uses per calendar month (UTC); absent or null: no limit.")] JsonElement MonthlyLimit,
    [property: Description("AI credentials: \"proxy\" (default) — the key reaches workspaces only through the sidecar's proxy, inject mode and `env` are refused; \"any\" — inject mode allowed too.")]
    string? Delivery = null)
{
    // A record would print every member, the secret included.
    public override string ToString() => nameof(CreateCredentialRequest);
}

/// <summary>
/// PATCH /api/v1/credentials/{id}, with JSON merge-patch semantics (RFC 7396) for the optional
/// fields: an absent member leaves the field as it is; for name, expiresAt, baseUrl and
/// monthlyLimit an explicit JSON null removes it (no name, no expiry, the provider's default
/// base URL, no limit). Those four are JsonElements so that absent (ValueKind Undefined) and
/// null (ValueKind Null) stay distinguishable. The required fields (url, username, provider,
/// secret) cannot be removed: null leaves them as they are.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record UpdateCredentialRequest(
    string? Secret,
    string? Url,
    string? Username,
    string? Provider,
    [property: Description("A string sets the name; null removes it.")] JsonElement Name,
    [property: Description("An RFC 3339 date-time in the future sets the expiry; null removes it. An earlier expiry revokes the leases that would outlive it.")]
    JsonElement ExpiresAt,
    [property: Description("AI credentials: an https base URL; null restores the provider's default. Changes only together with a new secret.")]
    JsonElement BaseUrl,
    [property: Description("A whole number from 1 sets the monthly use limit; null removes it.")] JsonElement MonthlyLimit,
    [property: Description("AI credentials: \"proxy\" or \"any\"; absent or null leaves it. Changing to \"proxy\" revokes the credential's leases.")]
    string? Delivery = null)
{
    public override string ToString() => nameof(UpdateCredentialRequest);
}

/// <summary>A credential as the REST API shows it: never the secret, only its hint.</summary>
internal sealed record CredentialResponse(
    string Id,
    string UserId,
    string Kind,
    string Provider,
    string? Name,
    string? Url,
    string? BaseUrl,
    string? Username,
    string SecretHint,
    long SecretVersion,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    bool Flagged,
    long RejectionCount,
    DateTimeOffset? LastRejectedAt,
    CredentialUsageResponse Usage,
    long? MonthlyLimit,
    bool LimitReached,
    CredentialHealthView Health,
    [property: Description("AI credentials: \"proxy\" (the key only through the sidecar's proxy) or \"any\"; null for git credentials.")]
    string? Delivery)
{
    /// <param name="now">Decides which month "this month" is: a past month's count shows as 0.</param>
    /// <param name="health">The credential's health (last provider test, expiry), from CredentialHealthView.Of.</param>
    /// <param name="byWorkspace">An AI credential's proxied use this month per workspace (GET of one credential only).</param>
    public static CredentialResponse From(CredentialRecord r, DateTimeOffset now, CredentialHealthView health,
        IReadOnlyList<Leases.WorkspaceAiUsage>? byWorkspace = null)
    {
        var quota = MonthlyQuota.Of(r, now);
        return new(
            r.Id, r.UserId, r.Kind, r.Provider, r.Name,
            r.Kind == CredentialKinds.Git ? r.Url : null,
            r.Kind == CredentialKinds.Ai ? r.Url : null,
            r.Username, r.SecretHint, r.SecretVersion, r.ExpiresAt, r.CreatedAt, r.UpdatedAt,
            r.FlaggedAt is not null, r.RejectionCount, r.FlaggedAt,
            new CredentialUsageResponse(r.Usage.TotalUses, quota.UsesThisMonth, r.Usage.LastUsedAt, r.Usage.InputTokens, r.Usage.OutputTokens, byWorkspace),
            r.MonthlyLimit, quota.IsReached, health, r.Kind == CredentialKinds.Ai ? r.Delivery : null);
    }
}

/// <summary>
/// Uses are issued git leases, inject-mode AI leases and proxied AI requests granted (minus unused
/// ones given back); tokens as the sidecars' proxies read them from provider responses.
/// </summary>
internal sealed record CredentialUsageResponse(long TotalUses, long UsesThisMonth, DateTimeOffset? LastUsedAt, long InputTokens, long OutputTokens,
    [property: Description("AI credentials, on GET of one credential: this month's proxied requests (granted minus returned) and tokens per workspace.")]
    IReadOnlyList<Leases.WorkspaceAiUsage>? ByWorkspace = null);
