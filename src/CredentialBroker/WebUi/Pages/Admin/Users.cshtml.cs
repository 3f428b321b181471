using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>Admin: every user, oldest first, 50 a page (GET /api/v1/users). Only admins by the configured claim reach it; others get 404.</summary>
internal sealed class UsersModel(Database database) : PageModel
{
    private const int PageSize = 50;

    public IReadOnlyList<UserRecord> Users { get; private set; } = [];

    public string? NextCursor { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    public async Task<IActionResult> OnGetAsync()
    {
        try
        {
            var (_, after) = ListingCursor.ParsePage(limit: null, Cursor, "usr_", "user");
            (Users, NextCursor) = await database.ReadAsync(c => ListingCursor.Page(
                UserStore.ListAfter(c, null, after ?? ListingPosition.Start, PageSize + 1), PageSize, u => ListingPosition.Of(u.CreatedAt, u.Id)));
            return Page();
        }
        catch (ValidationException)
        {
            return BadRequest();
        }
    }
}
