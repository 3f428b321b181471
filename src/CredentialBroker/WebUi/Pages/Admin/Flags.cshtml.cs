using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>
/// Admin: suspicious-activity flags, the open ones first (newest first), then the most recently
/// raised acknowledged ones; acknowledge marks one reviewed (as POST /api/v1/audit/flags/{id}/ack).
/// </summary>
internal sealed class FlagsModel(Database database, WriteQueue writes, AuditChain audit, TimeProvider time) : PageModel
{
    public const int OpenShown = 100;
    public const int AcknowledgedShown = 25;

    public IReadOnlyList<AuditFlag> Open { get; private set; } = [];

    public IReadOnlyList<AuditFlag> Acknowledged { get; private set; } = [];

    public async Task OnGetAsync() =>
        (Open, Acknowledged) = await database.ReadAsync(c =>
            (AuditFlagStore.Newest(c, acknowledged: false, OpenShown), AuditFlagStore.Newest(c, acknowledged: true, AcknowledgedShown)));

    public async Task<IActionResult> OnPostAcknowledgeAsync(string? id)
    {
        try
        {
            await AuditFlagAcknowledgement.AcknowledgeAsync(writes, audit, time, HttpContext.AdminCaller(), id ?? "", HttpContext.RemoteAddress());
            return Redirect("/ui/admin/flags");
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
    }
}
