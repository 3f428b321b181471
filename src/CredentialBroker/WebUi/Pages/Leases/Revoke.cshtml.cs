using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Leases;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.WebUi.Pages.Leases;

/// <summary>Revoke one lease with confirmation: GET asks, POST revokes as DELETE /api/v1/leases/{id} does (the sidecar drops it).</summary>
internal sealed class RevokeModel(Database database, LeaseRevoker revoker, TimeProvider time) : PageModel
{
    public LeaseRecord Lease { get; private set; } = null!;

    public WorkspaceRecord Workspace { get; private set; } = null!;

    public bool Live { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id)
    {
        var caller = HttpContext.Caller();
        var found = await database.ReadAsync(c => LeaseStore.Find(c, null, id) is { } l && WorkspaceStore.Find(c, null, l.WorkspaceId) is { } w
            && caller.CanSee(w.UserId) ? (l, w) : ((LeaseRecord, WorkspaceRecord)?)null);
        if (found is not { } f)
        {
            return NotFound();
        }
        (Lease, Workspace) = f;
        Live = Lease.RevokedAt is null && Lease.ExpiresAt > time.GetUtcNow();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id)
    {
        try
        {
            await revoker.RevokeAsync(HttpContext.Caller(), id, HttpContext.RemoteAddress());
            return Redirect("/ui/workspaces");
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
    }
}
