using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>Admin: every API key, oldest first, 50 a page (GET /api/v1/api-keys): never the token or its hash, only its first characters.</summary>
internal sealed class ApiKeysModel(Database database, TimeProvider time) : PageModel
{
    private const int PageSize = 50;

    public IReadOnlyList<ApiKeyRecord> Keys { get; private set; } = [];

    /// <summary>The names of the users the listed keys are bound to.</summary>
    public IReadOnlyDictionary<string, string> UserNames { get; private set; } = new Dictionary<string, string>();

    public string? NextCursor { get; private set; }

    public DateTimeOffset Now { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    public async Task<IActionResult> OnGetAsync()
    {
        try
        {
            var (_, after) = ListingCursor.ParsePage(limit: null, Cursor, "key_", "API key");
            (Keys, NextCursor, UserNames) = await database.ReadAsync(c =>
            {
                var (keys, next) = ListingCursor.Page(ApiKeyStore.ListAfter(c, null, after ?? ListingPosition.Start, PageSize + 1), PageSize,
                    k => ListingPosition.Of(k.CreatedAt, k.Id));
                var names = keys.Select(k => k.UserId).OfType<string>().Distinct(StringComparer.Ordinal)
                    .Select(id => UserStore.Find(c, null, id)).OfType<UserRecord>().ToDictionary(u => u.Id, u => u.Name, StringComparer.Ordinal);
                return (keys, next, names);
            });
            Now = time.GetUtcNow();
            return Page();
        }
        catch (ValidationException)
        {
            return BadRequest();
        }
    }

    public string StatusOf(ApiKeyRecord key) => key.RevokedAt is not null ? "revoked" : key.ExpiresAt <= Now ? "expired" : "active";
}
