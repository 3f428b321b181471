using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>
/// Admin: create an API key (as POST /api/v1/api-keys does, audited the same way). The key is in
/// this POST's answer only: never in a URL, a cookie or a redirect, and not kept to be shown again.
/// </summary>
internal sealed class NewApiKeyModel(Database database, WriteQueue writes, AuditChain audit, UiOneTimeForms forms, TimeProvider time) : PageModel
{
    public const int DefaultDays = 90;

    [BindProperty]
    public NewApiKeyForm Form { get; set; } = new();

    /// <summary>The id this form is posted with (claimed once, so a reload of the answer creates nothing).</summary>
    [BindProperty]
    public string? FormId { get; set; }

    public CreatedApiKey? Created { get; private set; }

    /// <summary>The form was posted before (a reload of the answer page) or is stale.</summary>
    public bool Replayed { get; private set; }

    public static IReadOnlyList<string> Scopes { get; } = [.. ApiKeyScopes.All.Order(StringComparer.Ordinal)];

    public void OnGet() => FormId = forms.Issue();

    public async Task<IActionResult> OnPostAsync()
    {
        Response.Headers.CacheControl = "no-store";
        if (!forms.TryClaim(FormId))
        {
            Replayed = true;
            FormId = null;
            return Page();
        }
        try
        {
            var now = time.GetUtcNow();
            var userId = await ResolveUserAsync(Form.User);
            Created = await ApiKeyIssuance.CreateAsync(writes, audit, HttpContext.AdminCaller(),
                new CreateApiKeyRequest(Form.Name, Form.Scopes, userId, now + TimeSpan.FromDays(Form.ExpiresInDays ?? DefaultDays)), now, HttpContext.RemoteAddress());
            return Page();
        }
        catch (ValidationException e)
        {
            UiForms.AddErrors(ModelState, e, nameof(Form));
        }
        catch (NotFoundException)
        {
            ModelState.AddModelError("Form.User", "No user has that id or e-mail address.");
        }
        FormId = forms.Issue(); // the refused form may be corrected and posted again
        return Page();
    }

    /// <summary>The bound user's id: given as an id or an e-mail address; null when left empty.</summary>
    private async Task<string?> ResolveUserAsync(string? user)
    {
        if (string.IsNullOrWhiteSpace(user))
        {
            return null;
        }
        user = user.Trim();
        if (!user.Contains('@', StringComparison.Ordinal))
        {
            return user;
        }
        return (await database.ReadAsync(c => UserStore.FindByEmail(c, null, user)))?.Id ?? throw new NotFoundException("User");
    }
}

/// <summary>The create form's fields: the expiry is a number of days from now (the REST request's expiresAt).</summary>
internal sealed class NewApiKeyForm
{
    public string? Name { get; set; }

    public string[] Scopes { get; set; } = [];

    /// <summary>A user id or e-mail address; empty: bound to no user.</summary>
    public string? User { get; set; }

    public int? ExpiresInDays { get; set; } = NewApiKeyModel.DefaultDays;
}
