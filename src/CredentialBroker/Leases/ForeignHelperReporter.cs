using Xares.Broker.Audit;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>
/// Rule h could not hold for one git call: git handed a lease's secret (`store` or `erase`) to
/// other credential helpers as well, e.g. `git -c credential.helper=store push`. Recorded as
/// `lease.foreign_helper` with the helpers' command names; the secret never reaches the broker here.
/// </summary>
internal sealed class ForeignHelperReporter(WriteQueue writes, AuditChain audit)
{
    private const int MaxHelpers = 8;
    private const int MaxNameLength = 64;

    public Task<bool> ReportAsync(SessionContext session, string leaseId, string operation, IEnumerable<string> helpers, string? remoteAddress)
    {
        var names = helpers.Select(Clean).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).Take(MaxHelpers).ToList();
        var verb = operation is "store" or "erase" ? operation : "store";
        if (names.Count == 0)
        {
            return Task.FromResult(false);
        }
        return writes.ExecuteAsync((c, t) =>
        {
            var lease = LeaseStore.Find(c, t, leaseId);
            if (lease is null || lease.WorkspaceId != session.WorkspaceId)
            {
                return false;
            }
            audit.Append(c, t, new AuditEntry(AuditActions.LeaseForeignHelper, AuditOutcomes.Success)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = lease.CredentialId, LeaseId = lease.Id,
                RemoteAddress = remoteAddress,
                Detail = $"git {verb} handed the lease's secret to other credential helpers too: {string.Join(", ", names)}",
            });
            return true;
        });
    }

    // Only a command name goes into the record: arguments could hold anything, a secret included.
    private static string Clean(string helper)
    {
        var name = helper.Trim().Split([' ', '\t'], 2)[0];
        var kept = new string(name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '!' or '/' or '.' or '_' or '-' or '+').ToArray());
        return kept.Length > MaxNameLength ? kept[..MaxNameLength] : kept;
    }
}
