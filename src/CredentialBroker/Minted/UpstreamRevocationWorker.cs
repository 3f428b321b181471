using System.Globalization;
using System.Text;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Minted;

/// <summary>
/// Works the upstream_revocations outbox: for each due row, DELETE /installation/token with the
/// token, then the row goes and the result is audited. A failure (GitHub down, 5xx) is audited and
/// retried with exponential backoff (1 s doubling, at most 5 min) until it succeeds or the token
/// has expired anyway. Each row is claimed with a conditional update first, so replicas sharing a
/// database do not call GitHub twice for one token. Woken at once by a local revocation's commit;
/// otherwise it looks every second.
/// </summary>
internal sealed class UpstreamRevocationWorker(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, GitHubAppClient github,
    TimeProvider time, ILogger<UpstreamRevocationWorker> logger) : WakeablePassWorker(TimeSpan.FromSeconds(1))
{
    private const int BatchSize = 20;
    private static readonly TimeSpan ClaimFor = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Called after a commit that queued an upstream revocation.</summary>
    public static void Wake() => WakeAll<UpstreamRevocationWorker>();

    protected override void LogPassFailed(string exceptionType) => MintedLog.PassFailed(logger, exceptionType);

    protected override Task RunPassAsync(CancellationToken cancellationToken) => PassAsync(cancellationToken);

    /// <summary>One pass over the due rows; returns how many were attempted.</summary>
    internal async Task<int> PassAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var due = await database.ReadAsync(c => Sql.Query(c, null,
            "SELECT token_id, api_url, attempts, next_attempt_at FROM upstream_revocations WHERE next_attempt_at <= @now ORDER BY next_attempt_at LIMIT @n",
            r => (TokenId: r.GetString(0), ApiUrl: r.GetString(1), Attempts: Convert.ToInt32(r.GetValue(2), CultureInfo.InvariantCulture), NextAt: r.GetInt64(3)),
            ("@now", now.ToDb()), ("@n", BatchSize)));
        var attempted = 0;
        foreach (var row in due)
        {
            var claimed = await writes.ExecuteAsync((c, t) => Sql.Execute(c, t,
                "UPDATE upstream_revocations SET next_attempt_at = @claim WHERE token_id = @id AND next_attempt_at = @old",
                ("@claim", (time.GetUtcNow() + ClaimFor).ToDb()), ("@id", row.TokenId), ("@old", row.NextAt)) == 1);
            if (claimed)
            {
                attempted++;
                await RevokeAsync(row.TokenId, row.ApiUrl, row.Attempts, cancellationToken);
            }
        }
        return attempted;
    }

    private async Task RevokeAsync(string tokenId, string apiUrl, int attempts, CancellationToken cancellationToken)
    {
        var token = await database.ReadAsync(c => MintedTokenStore.Find(c, null, tokenId));
        if (token is null)
        {
            await FinishAsync(tokenId, null);
            return;
        }
        if (token.ExpiresAt <= time.GetUtcNow())
        {
            await FinishAsync(tokenId, Entry(token, AuditOutcomes.Success, "expired before its revocation reached GitHub; nothing left to revoke"));
            return;
        }
        string secret;
        try
        {
            secret = Encoding.UTF8.GetString(keyring.Open(token.Sealed, token.Context));
        }
        catch (SecretIntegrityException)
        {
            await FinishAsync(tokenId, Entry(token, AuditOutcomes.Failure, "the stored token failed its integrity check; it cannot be revoked at GitHub and expires "
                + token.ExpiresAt.ToString("O", CultureInfo.InvariantCulture)));
            return;
        }
        var result = await github.RevokeInstallationTokenAsync(apiUrl, secret, cancellationToken);
        if (result.Error is null)
        {
            var outcome = result.Value ? "revoked at GitHub" : "GitHub no longer accepts it (401): already revoked or expired";
            MintedLog.UpstreamRevoked(logger, tokenId, outcome);
            await FinishAsync(tokenId, Entry(token, AuditOutcomes.Success, outcome));
            return;
        }
        var attempt = attempts + 1;
        var backoff = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, attempts), MaxBackoff.TotalSeconds));
        MintedLog.UpstreamRevokeFailed(logger, tokenId, attempt, backoff, result.Error);
        await writes.ExecuteAsync((c, t) =>
        {
            Sql.Execute(c, t, "UPDATE upstream_revocations SET attempts = @a, next_attempt_at = @next, last_error = @e WHERE token_id = @id",
                ("@a", attempt), ("@next", (time.GetUtcNow() + backoff).ToDb()), ("@e", result.Error), ("@id", tokenId));
            audit.Append(c, t, Entry(token, AuditOutcomes.Failure,
                $"attempt {attempt}: {result.Error}; retrying in {backoff.TotalSeconds:0} s (the token is already revoked here)"));
        });
    }

    private Task FinishAsync(string tokenId, AuditEntry? entry) =>
        writes.ExecuteAsync((c, t) =>
        {
            Sql.Execute(c, t, "DELETE FROM upstream_revocations WHERE token_id = @id", ("@id", tokenId));
            if (entry is not null)
            {
                audit.Append(c, t, entry);
            }
        });

    private static AuditEntry Entry(MintedToken token, string outcome, string detail) => new(MintedAuditActions.UpstreamRevoke, outcome)
    {
        Actor = "broker", UserId = token.UserId, WorkspaceId = token.WorkspaceId, CredentialId = token.Id,
        Detail = $"installation {token.InstallationId} token for {token.Owner}: {detail}",
    };
}
