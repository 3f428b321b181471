using System.Security.Claims;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Security;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.WebUi;

/// <summary>Who a signed-in browser is in the broker: the user with the claimed email (created on first sign-in if allowed), admin or not.</summary>
internal sealed record UiAccount(string UserId, string DisplayName, bool IsAdmin);

/// <summary>
/// Turns the identity provider's verified ID token claims into a broker user, and that user into
/// the session's claims: the same caller claims an API key carries, bound to the user (so the
/// REST services' "one user sees only their own" checks apply unchanged), plus the UI's own.
/// </summary>
internal sealed class SignedInUserResolver(WebUiSettings settings, Database database, WriteQueue writes, AuditChain audit, TimeProvider time)
{
    public const string AdminClaim = "xares:ui_admin";
    public const string NameClaim = "xares:ui_name";
    public const string SignedInAtClaim = "xares:ui_signed_in_at";

    /// <summary>A random id per sign-in (never leaves the server-side session): what a redirect grant's state is bound to.</summary>
    public const string SessionClaim = "xares:ui_session";

    /// <summary>The scopes a signed-in user has over their own things; an admin's admin scope still only reaches the admin pages.</summary>
    private static readonly string[] UserScopes = [ApiKeyScopes.CredentialsRead, ApiKeyScopes.CredentialsWrite, ApiKeyScopes.WorkspacesRead,
        ApiKeyScopes.WorkspacesWrite, ApiKeyScopes.AuditRead];

    /// <summary>The broker user for these claims, or null with the reason shown to the person.</summary>
    public async Task<(UiAccount? Account, string? Refusal)> ResolveAsync(ClaimsPrincipal idToken, string? remoteAddress)
    {
        var email = idToken.FindFirstValue(settings.UserClaim);
        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal) || email.Length > 320)
        {
            return (null, $"The identity provider sent no e-mail address in the \"{settings.UserClaim}\" claim.");
        }
        var isAdmin = settings.AdminClaimPair is { } admin && idToken.Claims.Any(c => c.Type == admin.Type && c.Value == admin.Value);
        var user = await database.ReadAsync(c => UserStore.FindByEmail(c, null, email));
        if (user is null && settings.CreateUsers)
        {
            user = await writes.ExecuteAsync((c, t) =>
            {
                // Looked up again inside the write unit: two first sign-ins at once create one user.
                if (UserStore.FindByEmail(c, t, email) is { } existing)
                {
                    return existing;
                }
                var name = idToken.FindFirstValue("name") is { Length: > 0 and <= 200 } given ? given : email;
                var created = new UserRecord(OpaqueToken.NewId("usr_"), name, email, time.GetUtcNow());
                UserStore.Insert(c, t, created);
                audit.Append(c, t, new AuditEntry(AuditActions.UserCreate, AuditOutcomes.Success)
                {
                    Actor = $"oidc:{settings.Issuer!.Host}", RemoteAddress = remoteAddress, UserId = created.Id, Detail = "created at first web UI sign-in",
                });
                return created;
            });
        }
        return user is null
            ? (null, "No broker user has your e-mail address. Ask an administrator to add you.")
            : (new UiAccount(user.Id, user.Name, isAdmin), null);
    }

    /// <summary>The claims the UI session carries: no token from the identity provider, only who the user is here.</summary>
    public ClaimsPrincipal SessionPrincipal(UiAccount account)
    {
        var claims = new List<Claim>
        {
            new(CallerClaims.KeyId, "web-ui"),
            new(CallerClaims.UserId, account.UserId),
            new(CallerClaims.Actor, $"web-ui:{account.UserId}"),
            new(NameClaim, account.DisplayName),
            new(SessionClaim, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))),
            new(SignedInAtClaim, time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        claims.AddRange(UserScopes.Select(s => new Claim(CallerClaims.Scope, s)));
        if (account.IsAdmin)
        {
            claims.Add(new Claim(AdminClaim, "true"));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, WebUiAuthentication.CookieScheme, NameClaim, null));
    }
}
