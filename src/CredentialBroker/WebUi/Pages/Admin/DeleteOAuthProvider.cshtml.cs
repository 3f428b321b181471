using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Connections;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>
/// Admin: delete an OAuth provider after a confirmation page (as DELETE /api/v1/oauth-providers/{id}):
/// refused, with the REST answer's reason and a 409, while connections still use it.
/// </summary>
internal sealed class DeleteOAuthProviderModel(Database database, OAuthProviderRegistry registry) : PageModel
{
    public OAuthProviderResponse Provider { get; private set; } = null!;

    public string? Refusal { get; private set; }

    public Task<IActionResult> OnGetAsync(string id) => ShowAsync(id);

    public async Task<IActionResult> OnPostAsync(string id)
    {
        try
        {
            await registry.DeleteAsync(HttpContext.AdminCaller(), id, HttpContext.RemoteAddress());
            return Redirect("/ui/admin/apps");
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
        catch (ConflictException e)
        {
            Refusal = e.Message;
            Response.StatusCode = StatusCodes.Status409Conflict;
            return await ShowAsync(id);
        }
    }

    private async Task<IActionResult> ShowAsync(string id)
    {
        if (await database.ReadAsync(c => OAuthProviderStore.Find(c, null, id)) is not { } provider)
        {
            return NotFound();
        }
        Provider = OAuthProviderResponse.From(provider);
        return Page();
    }
}
