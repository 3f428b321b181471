namespace Xares.Broker.WebUi;

/// <summary>
/// The web UI's OpenID Connect sign-in (`--ui-*` options). The UI is on only when an issuer is
/// set; <see cref="ClientSecret"/> comes from a file or the environment, never from a flag.
/// </summary>
internal sealed record WebUiSettings
{
    public Uri? Issuer { get; init; }
    public string? ClientId { get; init; }
    public string? ClientSecret { get; init; }
    public IReadOnlyList<string> Scopes { get; init; } = ["openid", "profile", "email"];

    /// <summary>The ID token claim holding the person's e-mail address.</summary>
    public string UserClaim { get; init; } = "email";

    /// <summary>What finds the broker user: the e-mail in <see cref="UserClaim"/>, or the ID token's subject (`sub`).</summary>
    public UiUserMatch UserMatch { get; init; } = UiUserMatch.Email;

    /// <summary>Create a broker user at first sign-in when none matches.</summary>
    public bool CreateUsers { get; init; }

    /// <summary>`claim=value` (e.g. `groups=xares-admins`) that makes a signed-in user an admin; null: nobody is.</summary>
    public string? AdminClaim { get; init; }

    /// <summary>A session unused this long ends (sliding).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>A session ends this long after sign-in, however busy.</summary>
    public TimeSpan AbsoluteTimeout { get; init; } = TimeSpan.FromHours(8);

    public bool Enabled => Issuer is not null;

    public (string Type, string Value)? AdminClaimPair =>
        AdminClaim?.Split('=', 2) is [{ Length: > 0 } type, { Length: > 0 } value] ? (type, value) : null;

    /// <summary>Every problem with these settings, for the start-up error; empty when the UI is off or well configured.</summary>
    public IEnumerable<string> Problems()
    {
        if (!Enabled)
        {
            yield break;
        }
        if (Issuer!.Scheme != Uri.UriSchemeHttps && !Issuer.IsLoopback)
        {
            yield return $"--ui-oidc-issuer must be an https URL (http only on loopback, for development), not {Issuer}.";
        }
        if (string.IsNullOrWhiteSpace(ClientId))
        {
            yield return "--ui-oidc-client-id is needed with --ui-oidc-issuer.";
        }
        if (string.IsNullOrEmpty(ClientSecret))
        {
            yield return "the web UI's client secret is needed: --ui-oidc-client-secret-file FILE or XARES_UI_OIDC_CLIENT_SECRET.";
        }
        if (!Scopes.Contains("openid"))
        {
            yield return "--ui-oidc-scopes must include openid.";
        }
        if (AdminClaim is not null && AdminClaimPair is null)
        {
            yield return $"--ui-admin-claim takes claim=value (e.g. groups=xares-admins), not '{AdminClaim}'.";
        }
        if (AbsoluteTimeout < IdleTimeout)
        {
            yield return "--ui-session-hours must not be shorter than --ui-idle-minutes.";
        }
    }

    // A record would print every member, the client secret included.
    public override string ToString() => $"{nameof(WebUiSettings)} {{ Issuer = {Issuer}, ClientId = {ClientId}, ClientSecret = [redacted] }}";
}
