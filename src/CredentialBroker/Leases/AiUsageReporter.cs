using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>
/// ReportAiUsage from a sidecar's proxy, for a proxy-mode lease of the caller's workspace only.
/// Requests were counted when they were granted (<see cref="AiRequestGranter"/>); reported requests
/// are recorded for attribution and move no counter. Everything a report carries is bounded by what
/// the lease was granted: reported plus returned requests at most granted, and tokens at most
/// <see cref="MaxTokensPerRequest"/> per request granted and not returned (input and output each).
/// Returned allowance is taken off the credential's count. A report beyond a bound is refused and
/// changes nothing. Reports on revoked or expired leases are still taken: the requests happened.
/// </summary>
internal sealed class AiUsageReporter(WriteQueue writes, AuditChain audit, TimeProvider time)
{
    /// <summary>Most requests one report may carry (reported or returned).</summary>
    public const long MaxRequestsPerReport = 1_000_000;

    /// <summary>Most tokens (input or output) one report may carry.</summary>
    public const long MaxTokensPerReport = 1_000_000_000;

    /// <summary>
    /// Most input (and, separately, output) tokens one request may account for: above the largest
    /// context window offered today, so an honest report never meets it.
    /// </summary>
    public const long MaxTokensPerRequest = 2_000_000;

    /// <summary>True when the credential's monthly limit is reached.</summary>
    public Task<bool> ReportAsync(SessionContext session, AiUsageReport report, string? remoteAddress)
    {
        Validate(report);
        return writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            var (lease, grant) = AiRequestGranter.ProxyLease(c, t, session, report.LeaseId);
            var credential = CredentialStore.Find(c, t, lease.CredentialId) ?? throw new NotFoundException("The lease's credential");
            CheckBounds(grant, report);
            if (report.IsEmpty)
            {
                return MonthlyQuota.Of(credential, now).IsReached;
            }
            AiRequestGrantStore.AddReport(c, t, lease.Id, report.Requests, report.InputTokens, report.OutputTokens, report.Returned, now);
            CredentialUsageStore.Add(c, t, credential.Id, 0, report.InputTokens, report.OutputTokens, now);
            if (report.Returned > 0)
            {
                AiRequestGrantStore.Refund(c, t, credential.Id, report.Returned, grant.UsageMonth, now);
            }
            var after = MonthlyQuota.Of(CredentialStore.Find(c, t, credential.Id) ?? credential, now);
            audit.Append(c, t, new AuditEntry(UsageAuditActions.UsageReport, AuditOutcomes.Success)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = credential.Id, LeaseId = lease.Id,
                RemoteAddress = remoteAddress,
                Detail = $"workspace {session.WorkspaceId}: {report.Requests} requests, {report.InputTokens} input tokens, {report.OutputTokens} output tokens" +
                    (report.Returned > 0 ? $", {report.Returned} unused requests returned" : "") +
                    $"; lease granted {grant.Granted}, returned {grant.Returned + report.Returned}; {after.UsesThisMonth} uses this month",
            });
            return after.IsReached;
        });
    }

    private static void CheckBounds(AiRequestGrant grant, AiUsageReport report)
    {
        var left = grant.Granted - grant.Returned - grant.ReportedRequests;
        if (report.Requests + report.Returned > left)
        {
            throw new ConflictException(
                $"The report names {report.Requests} requests and returns {report.Returned}, but the lease has {left} granted requests not yet reported or returned " +
                $"({grant.Granted} granted, {grant.Returned} returned, {grant.ReportedRequests} reported); nothing was recorded.");
        }
        var charged = (Int128)(grant.Charged - report.Returned) * MaxTokensPerRequest;
        if (grant.InputTokens + report.InputTokens > charged || grant.OutputTokens + report.OutputTokens > charged)
        {
            throw new ConflictException(
                $"The report's tokens exceed {MaxTokensPerRequest} input or output tokens per request granted to the lease " +
                $"({grant.Charged - report.Returned} requests; {grant.InputTokens} input and {grant.OutputTokens} output tokens reported before); nothing was recorded.");
        }
    }

    private static void Validate(AiUsageReport report)
    {
        if (string.IsNullOrEmpty(report.LeaseId) || report.LeaseId.Length > 128)
        {
            throw ValidationException.For("lease_id", "lease_id is required.");
        }
        if (report.Requests is < 0 or > MaxRequestsPerReport || report.Returned is < 0 or > MaxRequestsPerReport)
        {
            throw ValidationException.For("requests", $"requests and returned_requests must be from 0 to {MaxRequestsPerReport}.");
        }
        if (report.InputTokens is < 0 or > MaxTokensPerReport || report.OutputTokens is < 0 or > MaxTokensPerReport)
        {
            throw ValidationException.For("tokens", $"input_tokens and output_tokens must be from 0 to {MaxTokensPerReport}.");
        }
    }
}

/// <summary>One ReportAiUsage: requests forwarded and tokens read since the last report, and unused allowance given back.</summary>
internal sealed record AiUsageReport(string LeaseId, long Requests, long InputTokens, long OutputTokens, long Returned)
{
    public bool IsEmpty => Requests == 0 && InputTokens == 0 && OutputTokens == 0 && Returned == 0;
}
