using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>Admin: revoke an API key after a confirmation page (as DELETE /api/v1/api-keys/{id}, audited the same way).</summary>
internal sealed class RevokeApiKeyModel(Database database, WriteQueue writes, AuditChain audit, TimeProvider time) : PageModel
{
    public ApiKeyRecord Key { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string id)
    {
        if (await database.ReadAsync(c => ApiKeyStore.Find(c, null, id)) is not { } key)
        {
            return NotFound();
        }
        Key = key;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id)
    {
        try
        {
            await ApiKeyIssuance.RevokeAsync(writes, audit, HttpContext.AdminCaller(), id, time.GetUtcNow(), HttpContext.RemoteAddress());
            return Redirect("/ui/admin/api-keys");
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
    }
}
