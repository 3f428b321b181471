using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>
/// Polls the token endpoint for pending device grants (RFC 8628 §3.4–3.5): at the provider's
/// interval, 5 s slower after each slow_down; authorization_pending waits; access_denied and
/// expired_token end the connection without tokens. A grant's tokens are stored (and any older
/// connection of the same user and provider is ended) in one transaction, so nothing is stored
/// half-done. Each poll is claimed first (a conditional update), so replicas poll a code once.
/// </summary>
internal sealed class DeviceGrantPoller(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, OAuthProviderRegistry providers,
    OAuthClient oauth, ConnectionLifecycle lifecycle, TimeProvider time, ILogger<DeviceGrantPoller> logger)
    : WakeablePassWorker(TimeSpan.FromMilliseconds(500))
{
    private static readonly TimeSpan ClaimFor = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SlowDownStep = TimeSpan.FromSeconds(5);

    /// <summary>Called after a commit that started a device grant.</summary>
    public static void Wake() => WakeAll<DeviceGrantPoller>();

    protected override void LogPassFailed(string exceptionType) => ConnectionLog.PassFailed(logger, exceptionType);

    protected override async Task RunPassAsync(CancellationToken cancellationToken)
    {
        var due = await database.ReadAsync(c => ConnectionStore.PendingDue(c, time.GetUtcNow(), 20));
        await Task.WhenAll(due.Select(row => PollAsync(row, cancellationToken)));
    }

    internal async Task PollAsync(ConnectionRecord row, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!await writes.ExecuteAsync((c, t) => ConnectionStore.ClaimPoll(c, t, row.Id, row.NextPollAt!.Value, now + ClaimFor)))
        {
            return;
        }
        var provider = await database.ReadAsync(c => OAuthProviderStore.Find(c, null, row.ProviderId));
        if (provider is null)
        {
            await EndAsync(row, ConnectionStatus.Expired, "the OAuth provider was deleted");
            return;
        }
        if (row.DeviceExpiresAt is { } expires && expires <= now)
        {
            await EndAsync(row, ConnectionStatus.Expired, "the user code expired before it was approved");
            return;
        }
        string deviceCode;
        try
        {
            deviceCode = TokenPair.OpenText(keyring, row.SealedDeviceCode!, row.DeviceCodeContext);
        }
        catch (SecretIntegrityException)
        {
            await EndAsync(row, ConnectionStatus.Expired, "the stored device code failed its integrity check");
            return;
        }
        var answer = await oauth.PollDeviceAsync(provider, providers.OpenSecret(provider), deviceCode, cancellationToken);
        switch (answer)
        {
            case { Tokens: { } tokens }:
                await ActivateAsync(row, provider, tokens, answer.ExpiresIn);
                break;
            case { Error: "authorization_pending" }:
                await ScheduleAsync(row, row.PollInterval, null);
                break;
            case { Error: "slow_down" }:
                await ScheduleAsync(row, row.PollInterval + SlowDownStep, null);
                break;
            case { Error: "access_denied" }:
                await EndAsync(row, ConnectionStatus.Denied, "the user denied the authorization request");
                break;
            case { Error: "expired_token" }:
                await EndAsync(row, ConnectionStatus.Expired, "the device code expired before it was approved");
                break;
            case { Transient: true }:
                // The provider is unreachable or failing: keep polling until the code expires.
                await ScheduleAsync(row, row.PollInterval, answer.Problem);
                break;
            default:
                await EndAsync(row, ConnectionStatus.Denied, answer.Problem ?? "the token endpoint refused the device code");
                break;
        }
    }

    private Task ScheduleAsync(ConnectionRecord row, TimeSpan interval, string? problem) =>
        writes.ExecuteAsync((c, t) => ConnectionStore.SchedulePoll(c, t, row.Id, interval, time.GetUtcNow() + interval, problem));

    private async Task EndAsync(ConnectionRecord row, string status, string reason)
    {
        ConnectionLog.DeviceEnded(logger, row.Id, status, reason);
        await writes.ExecuteAsync((c, t) =>
        {
            if (ConnectionStore.EndPending(c, t, row.Id, status, reason))
            {
                audit.Append(c, t, new AuditEntry(ConnectionAuditActions.Connect, status == ConnectionStatus.Denied ? AuditOutcomes.Denied : AuditOutcomes.Failure)
                {
                    Actor = "broker", UserId = row.UserId, WorkspaceId = row.WorkspaceId, CredentialId = row.Id, Detail = $"{status}: {reason}; no token stored",
                });
            }
        });
    }

    private async Task ActivateAsync(ConnectionRecord row, OAuthProviderRecord provider, TokenPair tokens, TimeSpan? expiresIn)
    {
        var stored = await writes.ExecuteAsync((c, t) =>
            lifecycle.StoreGranted(c, t, row, ConnectionStatus.Pending, provider, tokens, expiresIn, "broker", null, time.GetUtcNow()));
        if (stored)
        {
            ConnectionLog.Connected(logger, row.Id, provider.Id);
        }
    }
}
