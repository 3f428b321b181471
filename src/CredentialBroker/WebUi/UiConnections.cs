using Xares.Broker.Api;
using Xares.Broker.Connections;

namespace Xares.Broker.WebUi;

/// <summary>The web UI's side of the browser redirect grant: its callback URL and who is connecting.</summary>
internal static class UiConnections
{
    public const string Page = "/ui/connections";
    public const string CallbackPath = "/ui/connections/callback";

    /// <summary>The broker's own callback URL as this request reached it: what an admin registers at the provider.</summary>
    public static string RedirectUri(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}{CallbackPath}";

    /// <summary>The signed-in session connecting; null when the principal is not a web UI session.</summary>
    public static UiConnector? Connector(HttpContext http, System.Security.Claims.ClaimsPrincipal? user = null)
    {
        user ??= http.User;
        var session = user.FindFirst(SignedInUserResolver.SessionClaim)?.Value;
        var userId = user.FindFirst(CallerClaims.UserId)?.Value;
        var actor = user.FindFirst(CallerClaims.Actor)?.Value;
        return session is null || userId is null || actor is null ? null : new UiConnector(session, userId, actor, http.RemoteAddress());
    }
}
