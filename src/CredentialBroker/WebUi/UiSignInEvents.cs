using Microsoft.AspNetCore.Authentication;

namespace Xares.Broker.WebUi;

/// <summary>What happens when the identity provider sends the browser back.</summary>
internal static class UiSignInEvents
{
    public const string NoAccountPath = "/ui/no-account";
    public const string FailedPath = "/ui/signin-failed";

    /// <summary>Replaces the provider's identity with the broker user's, or refuses the sign-in when there is none.</summary>
    public static async Task TicketReceivedAsync(TicketReceivedContext context)
    {
        var http = context.HttpContext;
        var resolver = http.RequestServices.GetRequiredService<SignedInUserResolver>();
        var logger = http.RequestServices.GetRequiredService<ILogger<SignedInUserResolver>>();
        var (account, refusal) = await resolver.ResolveAsync(context.Principal!, http.Connection.RemoteIpAddress?.ToString());
        if (account is null)
        {
            UiLog.SignInRefused(logger, refusal!.Reason);
            context.Response.Redirect($"{NoAccountPath}?reason={refusal.Code}");
            context.HandleResponse();
            return;
        }
        UiLog.SignedIn(logger, account.UserId, account.IsAdmin);
        context.Principal = resolver.SessionPrincipal(account);
        // Only a local page may follow sign-in (no open redirect through returnUrl).
        if (!WebUiEndpoints.IsLocal(context.ReturnUri))
        {
            context.ReturnUri = UiPaths.Home;
        }
    }

    /// <summary>A forged or replayed callback (state or correlation cookie wrong), or an error from the provider.</summary>
    public static Task RemoteFailureAsync(RemoteFailureContext context)
    {
        var logger = context.HttpContext.RequestServices.GetRequiredService<ILogger<SignedInUserResolver>>();
        UiLog.SignInFailed(logger, context.Failure?.Message ?? "unknown");
        context.Response.Redirect(FailedPath);
        context.HandleResponse();
        return Task.CompletedTask;
    }
}
