using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>
/// Usage counted by a sidecar's proxy (ReportAiUsage): requests are uses, tokens are added as
/// reported. Only for leases of the caller's workspace and of AI credentials; a bad report
/// changes nothing. Reports on revoked or expired leases still count: the requests happened.
/// </summary>
internal sealed class AiUsageReporter(WriteQueue writes, AuditChain audit, UsageRecorder usage, TimeProvider time)
{
    /// <summary>Most requests one report may carry; a proxy reports far more often than that.</summary>
    public const long MaxRequestsPerReport = 1_000_000;

    /// <summary>Most tokens (input or output) one report may carry.</summary>
    public const long MaxTokensPerReport = 1_000_000_000;

    /// <summary>True when the credential's monthly limit is reached (its leases are then revoked).</summary>
    public Task<bool> ReportAsync(SessionContext session, string leaseId, long requests, long inputTokens, long outputTokens, string? remoteAddress)
    {
        Validate(leaseId, requests, inputTokens, outputTokens);
        return writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            var lease = LeaseStore.Find(c, t, leaseId);
            if (lease is null || lease.WorkspaceId != session.WorkspaceId)
            {
                throw new NotFoundException("The lease");
            }
            var credential = CredentialStore.Find(c, t, lease.CredentialId) ?? throw new NotFoundException("The lease's credential");
            if (credential.Kind != CredentialKinds.Ai)
            {
                throw ValidationException.For("lease_id", "Usage is reported for leases of ai credentials only.");
            }
            if (requests == 0 && inputTokens == 0 && outputTokens == 0)
            {
                return MonthlyQuota.Of(credential, now).IsReached;
            }
            var use = new CredentialUse(credential.Id, session.UserId, session.WorkspaceId, lease.Id, remoteAddress);
            var after = usage.Record(c, t, use, requests, inputTokens, outputTokens, now) ?? throw new NotFoundException("The lease's credential");
            audit.Append(c, t, new AuditEntry(UsageAuditActions.UsageReport, AuditOutcomes.Success)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = credential.Id, LeaseId = lease.Id,
                RemoteAddress = remoteAddress,
                Detail = $"{requests} requests, {inputTokens} input tokens, {outputTokens} output tokens; {after.UsesThisMonth} uses this month",
            });
            return after.IsReached;
        });
    }

    private static void Validate(string leaseId, long requests, long inputTokens, long outputTokens)
    {
        if (string.IsNullOrEmpty(leaseId) || leaseId.Length > 128)
        {
            throw ValidationException.For("lease_id", "lease_id is required.");
        }
        if (requests is < 0 or > MaxRequestsPerReport)
        {
            throw ValidationException.For("requests", $"requests must be from 0 to {MaxRequestsPerReport}.");
        }
        if (inputTokens is < 0 or > MaxTokensPerReport || outputTokens is < 0 or > MaxTokensPerReport)
        {
            throw ValidationException.For("tokens", $"input_tokens and output_tokens must be from 0 to {MaxTokensPerReport}.");
        }
    }
}
