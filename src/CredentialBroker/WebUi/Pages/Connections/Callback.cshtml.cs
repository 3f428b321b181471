using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Connections;

namespace Xares.Broker.WebUi.Pages.Connections;

/// <summary>
/// Where the provider sends the browser back with a code (or an error) and the state. Open to
/// anonymous requests on purpose: without a session the answer is refused here, rather than
/// carried (code and all) through a sign-in redirect. Success lands on the Connections page;
/// every refusal is shown on this page and never repeats the code.
/// </summary>
[AllowAnonymous]
internal sealed class CallbackModel(RedirectGrantFlow flow) : PageModel
{
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? state, string? code, string? error)
    {
        var session = await HttpContext.AuthenticateAsync(WebUiAuthentication.CookieScheme);
        var who = session.Succeeded ? UiConnections.Connector(HttpContext, session.Principal) : null;
        if (who is null)
        {
            Problem = "You are not signed in (or your session ended) here, so nothing was connected. Sign in and connect again.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        HttpContext.User = session.Principal!;
        var outcome = await flow.CompleteAsync(who, state, code, error, HttpContext.RequestAborted);
        if (outcome.ConnectionId is not null)
        {
            return Redirect(UiConnections.Page);
        }
        Problem = outcome.Problem;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
