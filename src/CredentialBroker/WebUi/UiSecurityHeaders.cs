namespace Xares.Broker.WebUi;

/// <summary>
/// Headers on every /ui response: a Content-Security-Policy with no inline script or style (the
/// pages have no script at all), no framing, no referrer, and no caching of pages.
/// </summary>
internal static class UiSecurityHeaders
{
    /// <summary>
    /// An origin a form of this response's request may be redirected to (form-action applies to
    /// redirects too): the OAuth provider a "Connect" POST sends the browser to.
    /// </summary>
    public const string FormRedirectItem = "xares:ui_form_redirect";

    /// <summary>`form-action` also names the issuer: a form posted after the session ended is redirected there to sign in again.</summary>
    public static string Policy(Uri issuer, string? formRedirect = null) =>
        $"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {issuer.GetLeftPart(UriPartial.Authority)}"
        + (formRedirect is null ? "" : " " + formRedirect) + "; frame-ancestors 'none'; base-uri 'none'";

    public static IApplicationBuilder UseUiSecurityHeaders(this IApplicationBuilder app, WebUiSettings settings)
    {
        var policy = Policy(settings.Issuer!);
        return app.Use((context, next) =>
        {
            if (UiPaths.IsUi(context.Request.Path))
            {
                // Set as the response starts, so error and redirect responses carry them too.
                context.Response.OnStarting(() =>
                {
                    var headers = context.Response.Headers;
                    headers.ContentSecurityPolicy = context.Items[FormRedirectItem] is string origin ? Policy(settings.Issuer!, origin) : policy;
                    headers.XContentTypeOptions = "nosniff";
                    headers.XFrameOptions = "DENY";
                    headers["Referrer-Policy"] = "no-referrer";
                    headers["Cross-Origin-Opener-Policy"] = "same-origin";
                    if (context.Request.Path != UiPaths.Stylesheet && context.Request.Path != UiPaths.Icon)
                    {
                        headers.CacheControl = "no-store";
                    }
                    return Task.CompletedTask;
                });
            }
            return next(context);
        });
    }
}
