using System.Security.Claims;
using Xares.Broker.ApiKeys;

namespace Xares.Broker.Api;

internal static class CallerClaims
{
    public const string KeyId = "xares:key_id";
    public const string Scope = "xares:scope";
    public const string UserId = "xares:user_id";

    /// <summary>Set when the caller is not an API key (a signed-in web UI user): the audit actor.</summary>
    public const string Actor = "xares:actor";
}

/// <summary>Who is calling the REST API: an API key, its scopes, and the user it is bound to, if any.</summary>
internal sealed record Caller(string KeyId, IReadOnlySet<string> Scopes, string? BoundUserId)
{
    public string Actor { get; init; } = $"apikey:{KeyId}";

    public static Caller From(ClaimsPrincipal principal)
    {
        var caller = new Caller(
            principal.FindFirstValue(CallerClaims.KeyId) ?? throw new InvalidOperationException("The request is not authenticated."),
            principal.FindAll(CallerClaims.Scope).Select(c => c.Value).ToHashSet(StringComparer.Ordinal),
            principal.FindFirstValue(CallerClaims.UserId));
        return principal.FindFirstValue(CallerClaims.Actor) is { } actor ? caller with { Actor = actor } : caller;
    }

    public bool Has(string scope) => Scopes.Contains(ApiKeyScopes.Admin) || Scopes.Contains(scope);

    /// <summary>A user-bound key sees only its own user; anything else is answered as not found.</summary>
    public bool CanSee(string userId) => BoundUserId is null || string.Equals(BoundUserId, userId, StringComparison.Ordinal);

    public void EnsureCanSee(string userId, string what)
    {
        if (!CanSee(userId))
        {
            throw new NotFoundException(what);
        }
    }
}

internal static class CallerExtensions
{
    public static Caller Caller(this HttpContext context) => Api.Caller.From(context.User);

    public static string? RemoteAddress(this HttpContext context) => context.Connection.RemoteIpAddress?.ToString();
}
