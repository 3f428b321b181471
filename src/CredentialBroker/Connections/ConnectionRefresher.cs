using System.Collections.Concurrent;
using Xares.Broker.Audit;
using Xares.Broker.Security;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>An access token ready for a lease: its value, the pair version it belongs to, and when it expires.</summary>
internal sealed record UsableAccessToken(string AccessToken, long Version, DateTimeOffset? ExpiresAt)
{
    public override string ToString() => $"{nameof(UsableAccessToken)} {{ AccessToken = [redacted], Version = {Version}, ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>
/// Hands out a connection's access token, refreshing it when it is about to expire. At most one
/// refresh per connection is in flight: in this process a single flight per connection, across
/// replicas a claim on the row (<see cref="ConnectionStore.ClaimRefresh"/>, a lease that lapses
/// after <see cref="ClaimFor"/> if its holder dies). Callers that find the claim taken wait for
/// the holder's result in the database. A refreshed pair is committed before it is used or
/// checked, so a failing check after the refresh never loses the rotated refresh token.
/// invalid_grant marks the connection reconnect_required (audited, flagged) and stops refreshing;
/// transient failures are retried twice at once, then back off per connection (5 s doubling, at
/// most 5 min) with the stored refresh token kept, so git calls meanwhile do not reach the provider.
/// </summary>
internal sealed class ConnectionRefresher(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, OAuthProviderRegistry providers,
    OAuthClient oauth, TimeProvider time, ILogger<ConnectionRefresher> logger)
{
    internal static readonly TimeSpan ClaimFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WaitForOthers = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan MaxMargin = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
    private const int AttemptsPerRefresh = 3;

    private readonly ConcurrentDictionary<string, Lazy<Task<(UsableAccessToken? Token, string? Problem)>>> _flights = new(StringComparer.Ordinal);

    /// <summary>
    /// Refresh this long before expiry: a third of the token's lifetime, at most 5 minutes (a
    /// 30-second token is refreshed with 10 s left, a 2-hour one with 5 minutes left).
    /// </summary>
    internal static TimeSpan Margin(ConnectionRecord row)
    {
        var issued = row.RefreshedAt ?? row.ConnectedAt;
        return row.AccessExpiresAt is { } expires && issued is { } at && expires > at ? TimeSpan.FromTicks(Math.Min((expires - at).Ticks / 3, MaxMargin.Ticks)) : MaxMargin;
    }

    private bool Fresh(ConnectionRecord row, DateTimeOffset now) => row.AccessExpiresAt is not { } expires || expires - Margin(row) > now;

    /// <summary>The connection's access token (refreshed first when due), or why there is none.</summary>
    public async Task<(UsableAccessToken? Token, string? Problem)> GetAsync(ConnectionRecord row, OAuthProviderRecord provider)
    {
        if (row.Status == ConnectionStatus.Active && Fresh(row, time.GetUtcNow()) && Open(row) is { } token)
        {
            return (token, null);
        }
        var flight = _flights.GetOrAdd(row.Id, id => new Lazy<Task<(UsableAccessToken?, string?)>>(() => RefreshOnceAsync(id, provider)));
        try
        {
            return await flight.Value;
        }
        finally
        {
            _flights.TryRemove(new KeyValuePair<string, Lazy<Task<(UsableAccessToken?, string?)>>>(row.Id, flight));
        }
    }

    private UsableAccessToken? Open(ConnectionRecord row)
    {
        try
        {
            return row.SealedTokens is { } sealedPair
                ? new UsableAccessToken(TokenPair.Open(keyring, sealedPair, row.TokensContext).AccessToken, row.TokenVersion, row.AccessExpiresAt)
                : null;
        }
        catch (SecretIntegrityException)
        {
            return null;
        }
    }

    private async Task<(UsableAccessToken?, string?)> RefreshOnceAsync(string id, OAuthProviderRecord provider)
    {
        var giveUpAt = time.GetUtcNow() + WaitForOthers;
        while (true)
        {
            var now = time.GetUtcNow();
            var row = await database.ReadAsync(c => ConnectionStore.Find(c, null, id));
            if (row is not { Status: ConnectionStatus.Active })
            {
                return (null, row is null ? "the connection is gone" : $"the connection is {row.Status}");
            }
            if (Fresh(row, now))
            {
                // Refreshed by another replica (or in the meantime): use its result.
                return Open(row) is { } fresh ? (fresh, null) : (null, "the stored token pair failed its integrity check");
            }
            var stillValid = row.AccessExpiresAt > now ? Open(row) : null;
            if (!row.HasRefreshToken)
            {
                return stillValid is not null ? (stillValid, null) : await ReconnectRequiredAsync(row, "the provider issued no refresh token and the access token expired");
            }
            if (row.RefreshNotBefore is { } notBefore && notBefore > now)
            {
                return stillValid is not null ? (stillValid, null) : (null, $"refreshing is backing off until {notBefore:O} after: {row.LastError}");
            }
            if (await writes.ExecuteAsync((c, t) => ConnectionStore.ClaimRefresh(c, t, id, row.TokenVersion, now, now + ClaimFor)))
            {
                return await RefreshClaimedAsync(row, provider);
            }
            // Another replica holds the claim: wait for its result.
            if (now > giveUpAt)
            {
                return stillValid is not null ? (stillValid, null) : (null, "another broker's refresh of this connection did not finish in time");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private async Task<(UsableAccessToken?, string?)> RefreshClaimedAsync(ConnectionRecord row, OAuthProviderRecord provider)
    {
        TokenPair current;
        try
        {
            current = TokenPair.Open(keyring, row.SealedTokens!, row.TokensContext);
        }
        catch (SecretIntegrityException)
        {
            return await ReconnectRequiredAsync(row, "the stored token pair failed its integrity check");
        }
        var secret = providers.OpenSecret(provider);
        TokenAnswer answer = TokenAnswer.Failed(null, "not tried", transient: true);
        for (var attempt = 1; attempt <= AttemptsPerRefresh; attempt++)
        {
            answer = await oauth.RefreshAsync(provider, secret, current.RefreshToken!, CancellationToken.None);
            if (answer.Tokens is not null || !answer.Transient)
            {
                break;
            }
            ConnectionLog.RefreshFailed(logger, row.Id, attempt, answer.Problem!);
            if (attempt < AttemptsPerRefresh)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300 * attempt));
            }
        }
        if (answer.Tokens is { } tokens)
        {
            return await StoreAsync(row, provider, tokens, answer.ExpiresIn);
        }
        if (answer.Error == "invalid_grant")
        {
            return await ReconnectRequiredAsync(row, answer.Problem!);
        }
        return await BackOffAsync(row, answer.Problem!);
    }

    private async Task<(UsableAccessToken?, string?)> StoreAsync(ConnectionRecord row, OAuthProviderRecord provider, TokenPair tokens, TimeSpan? expiresIn)
    {
        var now = time.GetUtcNow();
        var version = row.TokenVersion + 1;
        DateTimeOffset? expires = expiresIn is { } lifetime ? now + lifetime : null;
        var sealedPair = tokens.Seal(keyring, ConnectionRecord.TokensContextFor(row.Id, row.UserId, row.ProviderId, version));
        // Committed first: whatever happens next (a failed check, a crash), the rotated refresh token is kept.
        var stored = await writes.ExecuteAsync((c, t) =>
        {
            if (!ConnectionStore.StoreRefreshed(c, t, row.Id, row.TokenVersion, sealedPair, expires, tokens.RefreshToken is not null, now))
            {
                return false;
            }
            audit.Append(c, t, new AuditEntry(ConnectionAuditActions.Refresh, AuditOutcomes.Success)
            {
                Actor = "broker", UserId = row.UserId, CredentialId = row.Id,
                Detail = $"{provider.Name}: token version {version}, access token expires {(expires is { } at ? at.ToString("O") : "never (no expires_in)")}",
            });
            return true;
        });
        if (!stored)
        {
            // The claim lapsed and another replica refreshed meanwhile; its pair is the current one.
            return (null, "the refresh claim lapsed before the new pair was stored");
        }
        ConnectionLog.Refreshed(logger, row.Id, version, expires);
        var usable = new UsableAccessToken(tokens.AccessToken, version, expires);
        if (provider.UserInfoUrl is not null && await oauth.CheckAccessTokenAsync(provider, tokens.AccessToken, CancellationToken.None) is { } problem)
        {
            // A check is information, never a reason to drop a committed pair.
            ConnectionLog.ValidationFailed(logger, row.Id, problem);
            await writes.ExecuteAsync((c, t) =>
            {
                ConnectionStore.NoteError(c, t, row.Id, "check after refresh: " + problem);
                audit.Append(c, t, new AuditEntry(ConnectionAuditActions.Refresh, AuditOutcomes.Failure)
                {
                    Actor = "broker", UserId = row.UserId, CredentialId = row.Id,
                    Detail = $"{provider.Name}: the new access token (version {version}) failed its check: {problem}; the stored pair is kept",
                });
            });
        }
        return (usable, null);
    }

    private async Task<(UsableAccessToken?, string?)> BackOffAsync(ConnectionRecord row, string problem)
    {
        var failures = row.RefreshFailures + 1;
        var backoff = TimeSpan.FromSeconds(Math.Min(5 * Math.Pow(2, failures - 1), MaxBackoff.TotalSeconds));
        var notBefore = time.GetUtcNow() + backoff;
        await writes.ExecuteAsync((c, t) =>
        {
            ConnectionStore.BackOff(c, t, row.Id, row.TokenVersion, failures, notBefore, problem);
            audit.Append(c, t, new AuditEntry(ConnectionAuditActions.Refresh, AuditOutcomes.Failure)
            {
                Actor = "broker", UserId = row.UserId, CredentialId = row.Id,
                Detail = $"failure {failures}: {problem}; the stored refresh token is kept, next attempt after {notBefore:O}",
            });
        });
        var now = time.GetUtcNow();
        return row.AccessExpiresAt > now && Open(row) is { } stillValid ? (stillValid, null) : (null, problem);
    }

    private async Task<(UsableAccessToken?, string?)> ReconnectRequiredAsync(ConnectionRecord row, string reason)
    {
        ConnectionLog.ReconnectRequired(logger, row.Id, reason);
        await writes.ExecuteAsync((c, t) =>
        {
            if (!ConnectionStore.MarkReconnectRequired(c, t, row.Id, row.TokenVersion, reason))
            {
                return;
            }
            var record = audit.AppendNow(c, t, new AuditEntry(ConnectionAuditActions.ReconnectRequired, AuditOutcomes.Failure)
            {
                Actor = "broker", UserId = row.UserId, CredentialId = row.Id, Detail = $"{reason}; refreshing stopped until the user connects again",
            });
            AuditFlagStore.Insert(c, t, new AuditFlag(record.Sequence, OpaqueToken.NewId("flag_"), ConnectionAuditActions.ReconnectRequiredFlag, time.GetUtcNow(),
                row.UserId, null, row.Id, null, $"connection {row.Id} needs reconnecting: {reason}", null, null));
        });
        return (null, "the connection needs reconnecting: " + reason);
    }
}
