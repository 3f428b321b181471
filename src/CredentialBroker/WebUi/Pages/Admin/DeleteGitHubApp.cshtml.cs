using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Minted;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>Admin: delete a GitHub App after a confirmation page (as DELETE /api/v1/github-apps/{id}: its minted tokens are revoked).</summary>
internal sealed class DeleteGitHubAppModel(Database database, GitHubAppRegistry registry) : PageModel
{
    public GitHubAppResponse App { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string id)
    {
        if (await database.ReadAsync(c => GitHubAppStore.Find(c, null, id)) is not { } app)
        {
            return NotFound();
        }
        App = GitHubAppResponse.From(app);
        return Page();
    }

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
    }
}
