using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Connections;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Connections;

/// <summary>A connection as the page lists it, with its provider (null if it was removed).</summary>
internal sealed record ConnectionRow(ConnectionRecord Connection, OAuthProviderRecord? Provider);

/// <summary>
/// Connections: the user's OAuth connections (as GET /api/v1/users/{me}/connections lists them),
/// "Connect" per provider that has an authorize URL, and "Reconnect" for one that needs it. Both
/// POSTs start the browser redirect grant (<see cref="RedirectGrantFlow"/>) and send the browser
/// to the provider.
/// </summary>
internal sealed class IndexModel(Database database, RedirectGrantFlow flow) : PageModel
{
    public IReadOnlyList<ConnectionRow> Items { get; private set; } = [];

    public IReadOnlyList<OAuthProviderRecord> Connectable { get; private set; } = [];

    public string? Problem { get; private set; }

    public bool AnyReconnectRequired => Items.Any(r => r.Connection.Status == ConnectionStatus.ReconnectRequired);

    public async Task<IActionResult> OnGetAsync()
    {
        await LoadAsync();
        return Page();
    }

    public Task<IActionResult> OnPostConnectAsync(string? providerId) => StartAsync(providerId, null);

    public Task<IActionResult> OnPostReconnectAsync(string? id) => StartAsync(null, id);

    private async Task<IActionResult> StartAsync(string? providerId, string? reconnectId)
    {
        if (UiConnections.Connector(HttpContext) is not { } who)
        {
            return NotFound();
        }
        try
        {
            var authorize = await flow.StartAsync(who, providerId, reconnectId, UiConnections.RedirectUri(Request));
            // The CSP's form-action covers redirects that follow a form: allow this provider's origin on this answer only.
            HttpContext.Items[UiSecurityHeaders.FormRedirectItem] = authorize.GetLeftPart(UriPartial.Authority);
            return Redirect(authorize.AbsoluteUri);
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
        catch (ValidationException e)
        {
            Problem = e.Message;
            await LoadAsync();
            return Page();
        }
    }

    private async Task LoadAsync()
    {
        var userId = HttpContext.Caller().BoundUserId!;
        var (connections, providers) = await database.ReadAsync(c => (
            ConnectionStore.ListForUserAfter(c, userId, ListingPosition.Start, 500),
            OAuthProviderStore.ListAfter(c, ListingPosition.Start, 500)));
        var byId = providers.ToDictionary(p => p.Id, StringComparer.Ordinal);
        Items = connections.ConvertAll(k => new ConnectionRow(k, byId.GetValueOrDefault(k.ProviderId)));
        Connectable = providers.FindAll(p => p.AuthorizeUrl is not null);
    }
}
