using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Xares.Broker.WebUi;

/// <summary>The absolute timeout: however active, a session ends this long after its sign-in (the idle timeout is the cookie's sliding expiry).</summary>
internal static class UiSessionLifetime
{
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var settings = context.HttpContext.RequestServices.GetRequiredService<WebUiSettings>();
        var now = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (IsOver(context.Principal?.FindFirst(SignedInUserResolver.SignedInAtClaim)?.Value, now, settings.AbsoluteTimeout))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(WebUiAuthentication.CookieScheme);
        }
    }

    /// <summary>True when the session signed in at <paramref name="signedInAt"/> (Unix seconds) has lasted its maximum, or the claim is missing.</summary>
    public static bool IsOver(string? signedInAt, DateTimeOffset now, TimeSpan maximum) =>
        !long.TryParse(signedInAt, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
        || now - DateTimeOffset.FromUnixTimeSeconds(seconds) >= maximum;
}
