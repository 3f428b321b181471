using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Connections;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Connections;

/// <summary>Disconnect with confirmation: GET asks, POST ends the connection exactly as DELETE /api/v1/connections/{id} does (leases end, tokens revoked upstream, audited).</summary>
internal sealed class DisconnectModel(Database database, ConnectionLifecycle lifecycle) : PageModel
{
    public ConnectionRow Row { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string id)
    {
        var caller = HttpContext.Caller();
        var (connection, provider) = await database.ReadAsync(c =>
        {
            var found = ConnectionStore.Find(c, null, id);
            return (found, found is null ? null : OAuthProviderStore.Find(c, null, found.ProviderId));
        });
        if (connection is null || !caller.CanSee(connection.UserId))
        {
            return NotFound();
        }
        Row = new ConnectionRow(connection, provider);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id)
    {
        var caller = HttpContext.Caller();
        try
        {
            await lifecycle.DisconnectAsync(id, caller, caller.Actor, HttpContext.RemoteAddress());
            return Redirect(UiConnections.Page);
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
    }
}
