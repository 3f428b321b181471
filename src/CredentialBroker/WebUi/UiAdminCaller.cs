using Xares.Broker.Api;
using Xares.Broker.ApiKeys;

namespace Xares.Broker.WebUi;

/// <summary>
/// The caller the admin pages act as: an admin bound to no user, as an unbound admin API key is over
/// REST, so the same services and rules apply; audit records still name the signed-in person
/// (`web-ui:&lt;user id&gt;`). The session itself carries only the user's own scopes.
/// </summary>
internal static class UiAdminCaller
{
    public static Caller AdminCaller(this HttpContext http)
    {
        // The /Admin folder's policy already requires the claim; checked again so no other page can borrow this.
        if (!http.User.HasClaim(SignedInUserResolver.AdminClaim, "true"))
        {
            throw new NotFoundException("Page");
        }
        var session = http.Caller();
        return new Caller(session.KeyId, new HashSet<string>(StringComparer.Ordinal) { ApiKeyScopes.Admin }, null) { Actor = session.Actor };
    }
}
