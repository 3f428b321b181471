using System.CommandLine;
using Xares.Broker.Hosting;

namespace Xares.Broker.WebUi;

/// <summary>The `--ui-*` options of `xares-broker serve`, each also an XARES_UI_* variable or a settings-file key.</summary>
internal static class WebUiCommandLine
{
    private static readonly Option<string> Issuer = new("--ui-oidc-issuer")
    {
        Description = "OpenID Connect issuer URL for web UI sign-in; unset: no web UI (env XARES_UI_OIDC_ISSUER).",
    };

    private static readonly Option<string> ClientId = new("--ui-oidc-client-id") { Description = "The broker's client id at the issuer (env XARES_UI_OIDC_CLIENT_ID)." };

    private static readonly Option<string> ClientSecretFile = new("--ui-oidc-client-secret-file")
    {
        Description = "File holding the client secret (env XARES_UI_OIDC_CLIENT_SECRET_FILE; or the secret itself in XARES_UI_OIDC_CLIENT_SECRET, never a flag).",
    };

    private static readonly Option<string[]> Scopes = new("--ui-oidc-scopes")
    {
        Description = "Scopes to ask for; repeat it or separate with commas (env XARES_UI_OIDC_SCOPES, default openid,profile,email).",
    };

    private static readonly Option<string> UserClaim = new("--ui-user-claim")
    {
        Description = "ID token claim holding the person's e-mail address (env XARES_UI_USER_CLAIM, default email).",
    };

    private static readonly Option<string> UserMatch = new("--ui-user-match")
    {
        Description = "What finds the broker user at sign-in: email (the e-mail claim) or subject (the ID token's sub, set on the user as oidcSubject; "
            + "e-mail never links) (env XARES_UI_USER_MATCH, default email).",
    };

    private static readonly Option<bool?> CreateUsers = new("--ui-create-users")
    {
        Description = "Create a broker user at first sign-in when none matches (env XARES_UI_CREATE_USERS=true).",
    };

    private static readonly Option<string> AdminClaim = new("--ui-admin-claim")
    {
        Description = "claim=value that makes a signed-in user an admin, e.g. groups=xares-admins (env XARES_UI_ADMIN_CLAIM).",
    };

    private static readonly Option<int?> IdleMinutes = new("--ui-idle-minutes") { Description = "End a web UI session unused this long (env XARES_UI_IDLE_MINUTES, default 30)." };

    private static readonly Option<int?> SessionHours = new("--ui-session-hours") { Description = "End every web UI session this long after sign-in (env XARES_UI_SESSION_HOURS, default 8)." };

    public static IEnumerable<Option> Options => [Issuer, ClientId, ClientSecretFile, Scopes, UserClaim, UserMatch, CreateUsers, AdminClaim, IdleMinutes, SessionHours];

    public static WebUiSettings Read(ParseResult parse)
    {
        var defaults = new WebUiSettings();
        var settings = SettingsFile.For(parse);
        var issuerText = OptionValues.Text(parse, Issuer, "XARES_UI_OIDC_ISSUER");
        Uri? issuer = null;
        if (issuerText is not null && !Uri.TryCreate(issuerText.TrimEnd('/'), UriKind.Absolute, out issuer))
        {
            settings.Error($"{settings.Sources(Issuer.Name, "XARES_UI_OIDC_ISSUER")} must be an absolute URL, not '{issuerText}'.");
        }
        var scopes = OptionValues.Texts(parse, Scopes, "XARES_UI_OIDC_SCOPES")
            .SelectMany(s => s.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal).ToArray();
        var read = new WebUiSettings
        {
            Issuer = issuer,
            ClientId = OptionValues.Text(parse, ClientId, "XARES_UI_OIDC_CLIENT_ID"),
            ClientSecret = issuer is null ? null : ReadSecret(parse, settings),
            Scopes = scopes.Length > 0 ? scopes : defaults.Scopes,
            UserClaim = OptionValues.Text(parse, UserClaim, "XARES_UI_USER_CLAIM") ?? defaults.UserClaim,
            UserMatch = OptionValues.Text(parse, UserMatch, "XARES_UI_USER_MATCH") switch
            {
                null or "email" => UiUserMatch.Email,
                "subject" => UiUserMatch.Subject,
                var other => Refuse(settings, $"{settings.Sources(UserMatch.Name, "XARES_UI_USER_MATCH")} must be email or subject, not '{other}'."),
            },
            CreateUsers = OptionValues.Flag(parse, CreateUsers, "XARES_UI_CREATE_USERS"),
            AdminClaim = OptionValues.Text(parse, AdminClaim, "XARES_UI_ADMIN_CLAIM"),
            IdleTimeout = OptionValues.WholeNumber(parse, IdleMinutes, "XARES_UI_IDLE_MINUTES", 1) is { } idle ? TimeSpan.FromMinutes(idle) : defaults.IdleTimeout,
            AbsoluteTimeout = OptionValues.WholeNumber(parse, SessionHours, "XARES_UI_SESSION_HOURS", 1) is { } hours ? TimeSpan.FromHours(hours) : defaults.AbsoluteTimeout,
        };
        foreach (var problem in read.Problems())
        {
            settings.Error(problem);
        }
        return read;
    }

    private static UiUserMatch Refuse(SettingsFile settings, string message)
    {
        settings.Error(message);
        return UiUserMatch.Email;
    }

    // The secret itself only from the environment; flags and the settings file may name a file holding it.
    private static string? ReadSecret(ParseResult parse, SettingsFile settings)
    {
        if (OptionValues.Env("XARES_UI_OIDC_CLIENT_SECRET") is { } secret)
        {
            return secret.Trim();
        }
        if (OptionValues.Text(parse, ClientSecretFile, "XARES_UI_OIDC_CLIENT_SECRET_FILE") is not { } path)
        {
            return null;
        }
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            settings.Error($"--ui-oidc-client-secret-file {path} cannot be read: {e.Message}");
            return null;
        }
    }
}
