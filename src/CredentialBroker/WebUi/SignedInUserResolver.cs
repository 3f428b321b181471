using System.Data.Common;
using System.Security.Claims;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Security;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.WebUi;

/// <summary>Who a signed-in browser is in the broker: the user with the claimed e-mail or subject (created on first sign-in if allowed), admin or not.</summary>
internal sealed record UiAccount(string UserId, string DisplayName, bool IsAdmin);

/// <summary>
/// Turns the identity provider's verified ID token claims into a broker user, and that user into
/// the session's claims: the same caller claims an API key carries, bound to the user (so the
/// REST services' "one user sees only their own" checks apply unchanged), plus the UI's own.
/// The user is found by e-mail or, with <see cref="UiUserMatch.Subject"/>, by the stored OIDC
/// subject only: e-mail addresses get reassigned, so in that mode an e-mail never links anyone.
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

    /// <summary>The broker user for these claims, or null with the reason.</summary>
    public async Task<(UiAccount? Account, UiRefusal? Refusal)> ResolveAsync(ClaimsPrincipal idToken, string? remoteAddress)
    {
        var (user, refusal) = settings.UserMatch == UiUserMatch.Subject
            ? await BySubjectAsync(idToken, remoteAddress)
            : await ByEmailAsync(idToken, remoteAddress);
        var isAdmin = settings.AdminClaimPair is { } admin && idToken.Claims.Any(c => c.Type == admin.Type && c.Value == admin.Value);
        return user is null ? (null, refusal) : (new UiAccount(user.Id, user.Name, isAdmin), null);
    }

    private async Task<(UserRecord? User, UiRefusal? Refusal)> ByEmailAsync(ClaimsPrincipal idToken, string? remoteAddress)
    {
        var email = Email(idToken);
        if (email is null)
        {
            return (null, new UiRefusal(UiRefusal.NoEmail, $"The identity provider sent no e-mail address in the \"{settings.UserClaim}\" claim."));
        }
        var user = await database.ReadAsync(c => UserStore.FindByEmail(c, null, email));
        if (user is null && settings.CreateUsers)
        {
            user = await writes.ExecuteAsync((c, t) =>
                // Looked up again inside the write unit: two first sign-ins at once create one user.
                UserStore.FindByEmail(c, t, email) ?? Create(c, t, idToken, email, subject: null, remoteAddress));
        }
        if (user is null)
        {
            return (null, new UiRefusal(UiRefusal.NoUser, "No broker user has the e-mail address the identity provider sent."));
        }
        // A user an administrator linked to an account at the provider is that account's alone: an
        // address reassigned to someone else there must not sign them in here, in either mode.
        return user.OidcSubject is { } linked && idToken.FindFirstValue("sub") != linked
            ? (null, new UiRefusal(UiRefusal.SubjectMismatch, $"User {user.Id} has the e-mail address the identity provider sent but is linked to another subject."))
            : (user, null);
    }

    private async Task<(UserRecord? User, UiRefusal? Refusal)> BySubjectAsync(ClaimsPrincipal idToken, string? remoteAddress)
    {
        var subject = idToken.FindFirstValue("sub");
        if (subject is null || !UserInput.IsSubject(subject))
        {
            return (null, new UiRefusal(UiRefusal.NoSubject, "The identity provider's ID token has no usable \"sub\" claim."));
        }
        var user = await database.ReadAsync(c => UserStore.FindBySubject(c, null, subject));
        if (user is not null || !settings.CreateUsers)
        {
            return user is null ? (null, new UiRefusal(UiRefusal.NotLinked, "No broker user has the subject the identity provider sent.")) : (user, null);
        }
        var email = Email(idToken);
        return await writes.ExecuteAsync<(UserRecord?, UiRefusal?)>((c, t) =>
        {
            if (UserStore.FindBySubject(c, t, subject) is { } existing)
            {
                return (existing, null);
            }
            // Not linked, and not created either: a second user with that address would only hide
            // the first one's things from its rightful owner. An administrator links or renames.
            if (email is not null && UserStore.FindByEmail(c, t, email) is { } holder)
            {
                return (null, new UiRefusal(UiRefusal.EmailTaken, $"User {holder.Id} has the e-mail address the identity provider sent but another or no subject; not created."));
            }
            return (Create(c, t, idToken, email, subject, remoteAddress), null);
        });
    }

    // A usable e-mail address from the configured claim, or null.
    private string? Email(ClaimsPrincipal idToken) =>
        idToken.FindFirstValue(settings.UserClaim) is { } email && UserInput.IsEmail(email) ? email : null;

    private UserRecord Create(DbConnection c, DbTransaction t, ClaimsPrincipal idToken, string? email, string? subject, string? remoteAddress)
    {
        var name = idToken.FindFirstValue("name") is { Length: > 0 and <= 200 } given && !given.Any(char.IsControl)
            ? given
            : email ?? (subject!.Length <= 200 ? subject : subject[..200]);
        var created = new UserRecord(OpaqueToken.NewId("usr_"), name, email, time.GetUtcNow(), subject);
        UserStore.Insert(c, t, created);
        audit.Append(c, t, new AuditEntry(AuditActions.UserCreate, AuditOutcomes.Success)
        {
            Actor = $"oidc:{settings.Issuer!.Host}", RemoteAddress = remoteAddress, UserId = created.Id,
            Detail = subject is null ? "created at first web UI sign-in" : "created at first web UI sign-in, linked to its OIDC subject",
        });
        return created;
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
