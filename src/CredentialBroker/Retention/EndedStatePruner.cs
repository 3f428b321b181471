using System.Data.Common;
using Xares.Broker.Api.Idempotency;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Minted;
using Xares.Broker.Revocations;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Retention;

/// <summary>What one pass of <see cref="EndedStatePruner"/> deleted, per table.</summary>
internal sealed record EndedStatePruned(int Leases, int Sessions, int BootstrapTokens, int Revocations, int AiRequestGrants = 0)
{
    /// <summary>Minted upstream tokens (their ciphertext included) that expired before the cutoff.</summary>
    public int MintedTokens { get; init; }

    /// <summary>Idempotency keys past their 24 h (README, REST conventions).</summary>
    public int IdempotencyKeys { get; init; }

    /// <summary>Web UI sessions past their idle expiry.</summary>
    public int UiSessions { get; init; }

    /// <summary>Web UI redirect grants (OAuth connect) past their 10 minutes, never taken.</summary>
    public int AuthorizationRequests { get; init; }

    public int Total => Leases + Sessions + BootstrapTokens + Revocations + AiRequestGrants + MintedTokens + IdempotencyKeys + UiSessions + AuthorizationRequests;
}

/// <summary>
/// Deletes working state that has ended and that nothing reads any more (`--ended-retention-days`):
/// leases, sessions (with every token they had) and bootstrap tokens that ended more than the
/// retention ago, and revocation records as old; the request grants of AI leases once their lease
/// row is gone and their month is over (usage.byWorkspace shows the current month). Without it these tables grow with every lease,
/// refresh and revocation for the life of the installation. The audit log keeps the history; this
/// removes none of it. Each chunk is its own write unit, so lease issues wait behind at most one.
/// </summary>
internal sealed class EndedStatePruner(WriteQueue writes, BrokerOptions options, TimeProvider time)
{
    public const int ChunkSize = 2000;

    public async Task<EndedStatePruned> PruneAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var cutoff = now - options.EndedStateRetention;
        // A revocation concerns leases issued before it; once they have all expired no sidecar
        // serves them, so the record may go (later, not sooner, than the retention says).
        var revocationCutoff = Min(cutoff, now - options.LeaseLifetime);
        return new EndedStatePruned(
            await DrainAsync("leases", (c, t) => LeaseStore.DeleteExpiredBefore(c, t, cutoff, ChunkSize), cancellationToken),
            await DrainAsync("sessions", (c, t) => SessionStore.DeleteExpiredBefore(c, t, cutoff, ChunkSize), cancellationToken),
            await DrainAsync("bootstrap_tokens", (c, t) => BootstrapTokens.DeleteExpiredBefore(c, t, cutoff, ChunkSize), cancellationToken),
            await DrainAsync("revocations", (c, t) => RevocationLog.DeleteBefore(c, t, revocationCutoff, ChunkSize), cancellationToken),
            await DrainAsync("ai_request_grants",
                (c, t) => AiRequestGrantStore.DeleteEndedBefore(c, t, cutoff, Credentials.MonthlyQuota.MonthOf(now), ChunkSize), cancellationToken))
        {
            // Their leases ended with them (a lease never outlives its token) and were deleted above.
            MintedTokens = await DrainAsync("minted_tokens", (c, t) => MintedTokenStore.DeleteExpiredBefore(c, t, cutoff, ChunkSize), cancellationToken),
            // Not held for the retention: a key's 24 h is the API's promise; answers holding a secret go once their replay window ends.
            IdempotencyKeys = await DrainAsync("idempotency_keys", (c, t) =>
            {
                IdempotencyStore.EraseEndedReplays(c, t, now);
                return IdempotencyStore.DeleteExpiredBefore(c, t, now, ChunkSize);
            }, cancellationToken),
            // Not held for the retention either: an expired UI session can never be used again.
            UiSessions = await DrainAsync("ui_sessions", (c, t) => WebUi.UiSessionRows.DeleteExpiredBefore(c, t, now, ChunkSize), cancellationToken),
            AuthorizationRequests = await DrainAsync("authorization_requests",
                (c, t) => Connections.AuthorizationRequestRows.DeleteExpiredBefore(c, t, now, ChunkSize), cancellationToken),
        };
    }

    private async Task<int> DrainAsync(string table, Func<DbConnection, DbTransaction, int> deleteChunk, CancellationToken cancellationToken)
    {
        var total = 0;
        int deleted;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            deleted = await writes.ExecuteAsync(deleteChunk);
            total += deleted;
            BrokerMetrics.PrunedRows.WithLabels(table).Inc(deleted);
        }
        while (deleted == ChunkSize);
        return total;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
