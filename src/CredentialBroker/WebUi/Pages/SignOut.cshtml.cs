using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Xares.Broker.WebUi.Pages;

/// <summary>Ends the session on the server (the stored session is removed, so the cookie is worthless) and in the browser.</summary>
internal sealed class SignOutModel : PageModel
{
    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(WebUiAuthentication.CookieScheme);
        return Redirect("/ui/signed-out");
    }
}
