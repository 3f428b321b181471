using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Credentials;

/// <summary>Delete with confirmation: GET asks, POST deletes (and revokes the credential's leases, as DELETE over REST does).</summary>
internal sealed class DeleteModel(Database database, CredentialWriter writer, BrokerOptions options, TimeProvider time) : PageModel
{
    public CredentialResponse Credential { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string id)
    {
        try
        {
            Credential = await CredentialEndpoints.ReadOneAsync(database, HttpContext.Caller(), id, time.GetUtcNow(), options.CredentialExpiringWindow);
            return Page();
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
    }

    public async Task<IActionResult> OnPostAsync(string id)
    {
        try
        {
            await writer.DeleteAsync(HttpContext.Caller(), id, HttpContext.RemoteAddress());
            return Redirect("/ui/credentials");
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
    }
}
