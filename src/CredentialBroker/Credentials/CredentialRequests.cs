using System.Text.Json.Serialization;

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
    string? BaseUrl)
{
    // A record would print every member, the secret included.
    public override string ToString() => nameof(CreateCredentialRequest);
}

/// <summary>PATCH /api/v1/credentials/{id}: absent (or null) members stay as they are.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record UpdateCredentialRequest(
    string? Name,
    DateTimeOffset? ExpiresAt,
    string? Secret,
    string? Url,
    string? Username,
    string? Provider,
    string? BaseUrl)
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
    DateTimeOffset? LastRejectedAt)
{
    public static CredentialResponse From(CredentialRecord r) => new(
        r.Id, r.UserId, r.Kind, r.Provider, r.Name,
        r.Kind == CredentialKinds.Git ? r.Url : null,
        r.Kind == CredentialKinds.Ai ? r.Url : null,
        r.Username, r.SecretHint, r.SecretVersion, r.ExpiresAt, r.CreatedAt, r.UpdatedAt,
        r.FlaggedAt is not null, r.RejectionCount, r.FlaggedAt);
}

internal sealed record CredentialList(IReadOnlyList<CredentialResponse> Items);
