using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Leases;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.WebUi.Pages.Workspaces;

/// <summary>My workspaces: each live one with its sidecar sessions and live leases, then the revoked ones.</summary>
internal sealed class IndexModel(Database database, TimeProvider time) : PageModel
{
    /// <summary>More than anyone has by hand; the REST listing pages through the rest.</summary>
    public const int MaxShown = 200;

    public sealed record WorkspaceView(WorkspaceRecord Workspace, IReadOnlyList<LiveSession> Sessions, IReadOnlyList<LiveLease> Leases);

    public IReadOnlyList<WorkspaceView> Live { get; private set; } = [];

    public IReadOnlyList<WorkspaceRecord> Revoked { get; private set; } = [];

    public bool Truncated { get; private set; }

    public async Task OnGetAsync()
    {
        var me = HttpContext.Caller().BoundUserId!;
        var now = time.GetUtcNow();
        var (workspaces, sessions, leases) = await database.ReadAsync(c =>
        {
            var workspaces = WorkspaceStore.ListAfter(c, me, ListingPosition.Start, MaxShown + 1);
            var live = workspaces.Where(w => w.RevokedAt is null).Select(w => w.Id).ToList();
            return (workspaces, SessionStore.LiveWithLastSeen(c, live, now), LeaseStore.LiveForUser(c, me, now, MaxShown));
        });
        Truncated = workspaces.Count > MaxShown;
        var shown = workspaces.Take(MaxShown).ToList();
        // Newest first: the workspace someone just started is the one they look for.
        shown.Reverse();
        Live = shown.Where(w => w.RevokedAt is null)
            .Select(w => new WorkspaceView(w, sessions.Where(s => s.WorkspaceId == w.Id).ToList(), leases.Where(l => l.Lease.WorkspaceId == w.Id).ToList()))
            .ToList();
        Revoked = shown.Where(w => w.RevokedAt is not null).ToList();
    }
}
