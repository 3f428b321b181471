using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Credentials;

/// <summary>My credentials: the list (as GET /api/v1/users/{me}/credentials shows it) and the add form (as POST creates one).</summary>
internal sealed class IndexModel(Database database, CredentialWriter writer, BrokerOptions options, TimeProvider time) : PageModel
{
    public IReadOnlyList<CredentialResponse> Items { get; private set; } = [];

    [BindProperty]
    public NewCredentialForm Form { get; set; } = new();

    public async Task<IActionResult> OnGetAsync()
    {
        await LoadAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var caller = HttpContext.Caller();
        try
        {
            var record = await writer.CreateAsync(caller, caller.BoundUserId!, Form.ToRequest(), HttpContext.RemoteAddress());
            return Redirect($"/ui/credentials/{record.Id}");
        }
        catch (ValidationException e)
        {
            UiForms.AddErrors(ModelState, e, nameof(Form));
            await LoadAsync();
            return Page();
        }
    }

    private async Task LoadAsync() =>
        Items = await CredentialEndpoints.ReadForUserAsync(database, HttpContext.Caller().BoundUserId!, time.GetUtcNow(), options.CredentialExpiringWindow) ?? [];
}

/// <summary>The add form's fields; the secret is write-only (never rendered back, even after a refused post).</summary>
internal sealed class NewCredentialForm
{
    public string Kind { get; set; } = CredentialKinds.Git;
    public string? Provider { get; set; }
    public string? Name { get; set; }
    public string? Url { get; set; }
    public string? Username { get; set; }

    public string? Secret { get; set; }

    public long? MonthlyLimit { get; set; }

    public CreateCredentialRequest ToRequest() => new(
        Kind, Provider, Kind == CredentialKinds.Git ? Url : null, Kind == CredentialKinds.Git ? Username : null, Secret,
        string.IsNullOrWhiteSpace(Name) ? null : Name, null, Kind == CredentialKinds.Ai && !string.IsNullOrWhiteSpace(Url) ? Url : null,
        MonthlyLimit is { } limit ? JsonSerializer.SerializeToElement(limit) : default);
}
