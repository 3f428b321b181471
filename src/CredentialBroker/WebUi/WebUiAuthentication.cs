using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Xares.Broker.Hosting;

namespace Xares.Broker.WebUi;

/// <summary>
/// The web UI's sign-in: OpenID Connect (authorization code + PKCE, form_post) into a server-side
/// cookie session. Both schemes serve only /ui; REST keeps authenticating API keys alone.
/// </summary>
internal static class WebUiAuthentication
{
    public const string CookieScheme = "WebUi";
    public const string OidcScheme = "WebUiOidc";
    public const string UserPolicy = "web-ui";
    public const string AdminPolicy = "web-ui-admin";
    public const string CallbackPath = "/ui/signin-oidc";

    /// <summary>Fixed, so every replica (whatever its install path) derives the same protectors.</summary>
    public const string DataProtectionApplicationName = "xares-broker";

    /// <summary>Cookies are Secure (and `__Host-` named) unless the browser reaches the broker over plain http on loopback (development).</summary>
    public static bool SecureCookies(BrokerOptions options) => options.RestUrl.StartsWith("https:", StringComparison.Ordinal) || options.PlaintextBehindProxy;

    public static string CookieName(BrokerOptions options) => SecureCookies(options) ? "__Host-xares-ui" : "xares-ui";

    public static void AddWebUiAuthentication(this IServiceCollection services, BrokerOptions options, AuthenticationBuilder authentication)
    {
        var ui = options.Ui;
        var secure = SecureCookies(options);
        // One key ring for every replica, in the database and sealed by the vault: a cookie, form or
        // sign-in started on one replica is accepted by another, and by this one after a restart.
        services.AddSingleton<DatabaseXmlRepository>();
        services.AddDataProtection().SetApplicationName(DataProtectionApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<DatabaseXmlRepository>((keys, repository) => keys.XmlRepository = repository);
        services.AddSingleton(ui).AddSingleton<UiSessionStore>().AddSingleton<SignedInUserResolver>();
        services.AddSingleton<Microsoft.Extensions.Options.IPostConfigureOptions<CookieAuthenticationOptions>, UiSessionStore.Binder>();
        services.AddAntiforgery(af =>
        {
            af.Cookie.Name = secure ? "__Host-xares-ui-af" : "xares-ui-af";
            af.Cookie.SecurePolicy = secure ? CookieSecurePolicy.Always : CookieSecurePolicy.None;
            af.Cookie.Path = "/";
        });

        authentication.AddCookie(CookieScheme, cookie =>
        {
            cookie.Cookie.Name = CookieName(options);
            cookie.Cookie.Path = "/"; // `__Host-` cookies must have Path=/ and no Domain
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = secure ? CookieSecurePolicy.Always : CookieSecurePolicy.None;
            cookie.ExpireTimeSpan = ui.IdleTimeout;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = "/ui/signin";
            cookie.ReturnUrlParameter = "returnUrl";
            cookie.Events.OnValidatePrincipal = UiSessionLifetime.ValidateAsync;
            // Pages a user may not see are answered like pages that do not exist.
            cookie.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            };
        });

        authentication.AddOpenIdConnect(OidcScheme, oidc =>
        {
            oidc.Authority = ui.Issuer!.ToString().TrimEnd('/');
            oidc.RequireHttpsMetadata = ui.Issuer.Scheme == Uri.UriSchemeHttps;
            oidc.ClientId = ui.ClientId;
            oidc.ClientSecret = ui.ClientSecret;
            oidc.ResponseType = OpenIdConnectResponseType.Code;
            oidc.ResponseMode = OpenIdConnectResponseMode.FormPost;
            oidc.UsePkce = true;
            oidc.Scope.Clear();
            foreach (var scope in ui.Scopes)
            {
                oidc.Scope.Add(scope);
            }
            oidc.CallbackPath = CallbackPath;
            oidc.SignInScheme = CookieScheme;
            oidc.SaveTokens = false; // the provider's tokens never reach the cookie or the session
            oidc.MapInboundClaims = false;
            oidc.GetClaimsFromUserInfoEndpoint = true;
            oidc.ClaimActions.MapUniqueJsonKey(ui.UserClaim, ui.UserClaim);
            if (ui.AdminClaimPair is { } admin)
            {
                oidc.ClaimActions.MapJsonKey(admin.Type, admin.Type);
            }
            if (!secure)
            {
                // Plain http on loopback: the browser drops SameSite=None cookies that are not Secure.
                oidc.CorrelationCookie.SameSite = oidc.NonceCookie.SameSite = SameSiteMode.Lax;
                oidc.CorrelationCookie.SecurePolicy = oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.None;
            }
            oidc.Events.OnTicketReceived = UiSignInEvents.TicketReceivedAsync;
            oidc.Events.OnRemoteFailure = UiSignInEvents.RemoteFailureAsync;
        });

        services.AddAuthorizationBuilder()
            .AddPolicy(UserPolicy, policy => policy.AddAuthenticationSchemes(CookieScheme).RequireAuthenticatedUser())
            .AddPolicy(AdminPolicy, policy => policy.AddAuthenticationSchemes(CookieScheme).RequireAuthenticatedUser()
                .RequireClaim(SignedInUserResolver.AdminClaim, "true"));
    }
}
