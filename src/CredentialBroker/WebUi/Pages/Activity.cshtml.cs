using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages;

/// <summary>
/// My audit trail, newest first, 25 a page, filterable by action: GET /api/v1/audit as a user-bound key
/// sees it; above it, the newest suspicious-activity flags about me (GET /api/v1/audit/flags), read-only.
/// </summary>
internal sealed class ActivityModel(Database database) : PageModel
{
    public const string PageSize = "25";

    public const string FlagsShown = "10";

    public IReadOnlyList<AuditFlag> Flags { get; private set; } = [];

    public bool MoreFlags { get; private set; }

    public IReadOnlyList<AuditRecord> Records { get; private set; } = [];

    public string? NextCursor { get; private set; }

    [BindProperty(SupportsGet = true, Name = "action")]
    public string? ActionFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var me = HttpContext.Caller().BoundUserId!;
        try
        {
            var query = AuditQuery.Parse(new AuditQueryParameters(me, null, null, string.IsNullOrWhiteSpace(ActionFilter) ? null : ActionFilter.Trim(), null, PageSize, Cursor));
            var flagQuery = AuditQuery.Parse(new AuditQueryParameters(me, null, null, null, null, FlagsShown, null));
            (Records, NextCursor, Flags, MoreFlags) = await database.ReadAsync(c =>
            {
                var (records, next) = query.Run(c);
                var (flags, moreFlags) = AuditFlagStore.Page(c, flagQuery);
                return (records, next, flags, moreFlags is not null);
            });
        }
        catch (ValidationException e)
        {
            Problem = e.Errors.Values.SelectMany(m => m).FirstOrDefault() ?? e.Message;
        }
        return Page();
    }
}
