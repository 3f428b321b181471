using System.ComponentModel;
using System.Text.Json.Serialization;

namespace Xares.Broker.Connections;

/// <summary>POST /api/v1/users/{userId}/connections.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record CreateConnectionRequest(
    [property: Description("The OAuth provider (its id, oauthp_…, or its name).")] string? ProviderId);

/// <summary>A connection as the REST API shows it: never a token or the device code.</summary>
internal sealed record ConnectionResponse(
    string Id,
    string ProviderId,
    string UserId,
    string? WorkspaceId,
    [property: Description("pending | active | reconnect_required | denied | expired")] string Status,
    [property: Description("While pending: where the user enters userCode.")] string? VerificationUri,
    string? VerificationUriComplete,
    [property: Description("While pending: the code to enter at verificationUri.")] string? UserCode,
    [property: Description("While pending: when the user code expires.")] DateTimeOffset? ExpiresAt,
    [property: Description("While pending: seconds between the broker's polls of the token endpoint.")] int? Interval,
    DateTimeOffset? AccessTokenExpiresAt,
    bool HasRefreshToken,
    [property: Description("Why the connection is not (or no longer) usable, or the last transient problem; never a token.")] string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ConnectedAt,
    DateTimeOffset? RefreshedAt)
{
    public static ConnectionResponse From(ConnectionRecord r)
    {
        var pending = r.Status == ConnectionStatus.Pending;
        return new ConnectionResponse(r.Id, r.ProviderId, r.UserId, r.WorkspaceId, r.Status, pending ? r.VerificationUri : null,
            pending ? r.VerificationUriComplete : null, pending ? r.UserCode : null, pending ? r.DeviceExpiresAt : null,
            pending ? (int)Math.Ceiling(r.PollInterval.TotalSeconds) : null, r.AccessExpiresAt, r.HasRefreshToken, r.LastError, r.CreatedAt, r.ConnectedAt,
            r.RefreshedAt);
    }
}

/// <summary>One page, oldest first; <see cref="NextCursor"/> fetches the next (null on the last page).</summary>
internal sealed record ConnectionList(IReadOnlyList<ConnectionResponse> Items, string? NextCursor = null);
