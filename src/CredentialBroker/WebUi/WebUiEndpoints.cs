using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Xares.Broker.Hosting;

namespace Xares.Broker.WebUi;

/// <summary>
/// The self-service web UI under /ui: server-rendered Razor Pages (WebUi/Pages), one stylesheet,
/// and the sign-in and sign-out routes. Registered only when an OpenID Connect issuer is set.
/// </summary>
internal static class WebUiEndpoints
{
    public static void AddWebUi(this IServiceCollection services, BrokerOptions options, AuthenticationBuilder authentication)
    {
        if (!options.Ui.Enabled)
        {
            return;
        }
        services.AddWebUiAuthentication(options, authentication);
        services.AddSingleton<UiOneTimeForms>();
        services.AddRazorPages(pages =>
        {
            pages.RootDirectory = "/WebUi/Pages";
            pages.Conventions.AuthorizeFolder("/", WebUiAuthentication.UserPolicy);
            pages.Conventions.AuthorizeFolder("/Admin", WebUiAuthentication.AdminPolicy);
            pages.Conventions.AllowAnonymousToPage("/SignedOut");
            pages.Conventions.AllowAnonymousToPage("/NoAccount");
            pages.Conventions.AllowAnonymousToPage("/SignInFailed");
            pages.Conventions.AllowAnonymousToPage("/Status");
        }).AddApplicationPart(typeof(WebUiEndpoints).Assembly);
    }

    /// <summary>Before authentication: the headers reach redirects to sign-in too.</summary>
    public static void UseWebUi(this WebApplication app, BrokerOptions options)
    {
        if (options.Ui.Enabled)
        {
            app.UseUiSecurityHeaders(options.Ui);
            // A /ui error without a body (404 for another user's id, 400 without the anti-forgery token)
            // gets the UI's styled page, keeping its status; REST keeps its problem details.
            // Not in a UseWhen branch: only the application's own builder re-routes the re-executed request.
            app.UseStatusCodePagesWithReExecute(UiPaths.Root + "/status/{0}");
            app.Use((context, next) =>
            {
                if (!UiPaths.IsUi(context.Request.Path) && context.Features.Get<IStatusCodePagesFeature>() is { } pages)
                {
                    pages.Enabled = false;
                }
                return next(context);
            });
        }
    }

    public static void MapWebUi(this WebApplication app, BrokerOptions options)
    {
        if (!options.Ui.Enabled)
        {
            return;
        }
        if (!WebUiAuthentication.SecureCookies(options))
        {
            UiLog.InsecureCookies(app.Logger);
        }
        MapAsset(app, UiPaths.Stylesheet, "ui.css", "text/css; charset=utf-8");
        MapAsset(app, UiPaths.Icon, "favicon.svg", "image/svg+xml");
        app.MapGet(UiPaths.Root, () => Results.Redirect(UiPaths.Home)).ExcludeFromDescription();
        // Sign-in starts with a GET (a link, or the cookie scheme's redirect); the callback's state,
        // correlation cookie, nonce and PKCE verifier are what bind it to this browser.
        app.MapGet("/ui/signin", (string? returnUrl) => Results.Challenge(
            new AuthenticationProperties { RedirectUri = IsLocal(returnUrl) ? returnUrl : UiPaths.Home }, [WebUiAuthentication.OidcScheme]))
            .ExcludeFromDescription();
        app.MapRazorPages();
    }

    internal static bool IsLocal(string? url) =>
        url is { Length: > 1 } && url.StartsWith(UiPaths.Root + "/", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal);

    private static void MapAsset(WebApplication app, string path, string name, string contentType)
    {
        var bytes = ReadAsset(name);
        app.MapGet(path, (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Bytes(bytes, contentType);
        }).ExcludeFromDescription();
    }

    private static byte[] ReadAsset(string name)
    {
        using var stream = typeof(WebUiEndpoints).Assembly.GetManifestResourceStream("webui/" + name)
            ?? throw new InvalidOperationException($"The web UI asset {name} is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
