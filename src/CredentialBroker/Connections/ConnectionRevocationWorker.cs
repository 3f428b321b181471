using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>
/// Works the oauth_revocations outbox: each due row is claimed (replicas revoke a token once),
/// sent to the provider's RFC 7009 endpoint, then deleted with an audit record. A failure is
/// audited and retried with exponential backoff (1 s doubling, at most 5 min); a disconnect never
/// waits for the provider. Woken by a disconnect's commit; otherwise it looks every second.
/// </summary>
internal sealed class ConnectionRevocationWorker(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, OAuthProviderRegistry providers,
    OAuthClient oauth, TimeProvider time, ILogger<ConnectionRevocationWorker> logger) : WakeablePassWorker(TimeSpan.FromSeconds(1))
{
    private static readonly TimeSpan ClaimFor = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Called after a disconnect's commit queued a revocation.</summary>
    public static void Wake() => WakeAll<ConnectionRevocationWorker>();

    protected override void LogPassFailed(string exceptionType) => ConnectionLog.PassFailed(logger, exceptionType);

    protected override Task RunPassAsync(CancellationToken cancellationToken) => PassAsync(cancellationToken);

    internal async Task<int> PassAsync(CancellationToken cancellationToken)
    {
        var due = await database.ReadAsync(c => ConnectionRevocationOutbox.Due(c, time.GetUtcNow(), 20));
        var attempted = 0;
        foreach (var row in due)
        {
            if (!await writes.ExecuteAsync((c, t) => ConnectionRevocationOutbox.Claim(c, t, row.Id, row.NextAttemptAt, time.GetUtcNow() + ClaimFor)))
            {
                continue;
            }
            attempted++;
            await RevokeAsync(row, cancellationToken);
        }
        return attempted;
    }

    private async Task RevokeAsync(QueuedRevocation row, CancellationToken cancellationToken)
    {
        var provider = await database.ReadAsync(c => OAuthProviderStore.Find(c, null, row.ProviderId));
        string? problem;
        bool done;
        if (provider?.RevocationUrl is null)
        {
            (done, problem) = (true, "the provider no longer offers revocation");
        }
        else
        {
            try
            {
                var token = TokenPair.OpenText(keyring, row.Sealed, row.Context);
                (done, problem) = await oauth.RevokeAsync(provider, providers.OpenSecret(provider), token, row.TokenType, cancellationToken);
            }
            catch (SecretIntegrityException)
            {
                (done, problem) = (true, "the queued token failed its integrity check; it cannot be revoked");
            }
        }
        if (done)
        {
            await writes.ExecuteAsync((c, t) =>
            {
                ConnectionRevocationOutbox.Delete(c, t, row.Id);
                audit.Append(c, t, Entry(row, problem is null ? AuditOutcomes.Success : AuditOutcomes.Failure,
                    problem is null ? $"{row.TokenType} revoked at the provider" : $"{row.TokenType}: {problem}; not retried"));
            });
            return;
        }
        var attempt = row.Attempts + 1;
        var backoff = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, row.Attempts), MaxBackoff.TotalSeconds));
        ConnectionLog.UpstreamRevokeFailed(logger, row.ConnectionId, attempt, problem!);
        await writes.ExecuteAsync((c, t) =>
        {
            ConnectionRevocationOutbox.Retry(c, t, row.Id, attempt, time.GetUtcNow() + backoff, problem!);
            audit.Append(c, t, Entry(row, AuditOutcomes.Failure, $"{row.TokenType} attempt {attempt}: {problem}; retrying in {backoff.TotalSeconds:0} s"));
        });
    }

    private static AuditEntry Entry(QueuedRevocation row, string outcome, string detail) => new(ConnectionAuditActions.UpstreamRevoke, outcome)
    {
        Actor = "broker", UserId = row.UserId, CredentialId = row.ConnectionId, Detail = detail,
    };
}
