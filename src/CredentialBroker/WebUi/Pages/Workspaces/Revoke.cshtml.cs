using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.WebUi.Pages.Workspaces;

/// <summary>Revoke a workspace with confirmation: GET asks, POST revokes as DELETE /api/v1/workspaces/{id} does (sessions, leases, sidecars told).</summary>
internal sealed class RevokeModel(Database database, WorkspaceLifecycle lifecycle, TimeProvider time) : PageModel
{
    public WorkspaceRecord Workspace { get; private set; } = null!;

    public int LiveSessions { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id)
    {
        var caller = HttpContext.Caller();
        var found = await database.ReadAsync(c => WorkspaceStore.Find(c, null, id) is { } w && caller.CanSee(w.UserId)
            ? (w, SessionStore.ActiveForWorkspaces(c, [w.Id], time.GetUtcNow())[w.Id].Count())
            : ((WorkspaceRecord, int)?)null);
        if (found is not { } f)
        {
            return NotFound();
        }
        (Workspace, LiveSessions) = f;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id)
    {
        try
        {
            await lifecycle.RevokeAsync(HttpContext.Caller(), id, HttpContext.RemoteAddress(), "revoked in the web UI");
            return Redirect("/ui/workspaces");
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
    }
}
