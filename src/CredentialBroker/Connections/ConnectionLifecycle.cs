using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Minted;
using Xares.Broker.Revocations;
using Xares.Broker.Security;
using Xares.Broker.Storage;
using Xares.Broker.Users;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>
/// Starts device grants (the provider call happens before anything is stored: a refused start
/// leaves no row), stores granted tokens (every grant type alike), and ends connections: disconnecting deletes the row, ends its leases (sidecars
/// drop them), and queues its tokens for revocation at the provider in the same transaction.
/// </summary>
internal sealed class ConnectionLifecycle(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, OAuthProviderRegistry providers,
    OAuthClient oauth, RevocationLog revocations, TimeProvider time)
{
    public async Task<ConnectionRecord> StartAsync(string userId, string provider, string? workspaceId, string actor, string? remoteAddress,
        CancellationToken cancellationToken)
    {
        var (record, userExists) = await database.ReadAsync(c => (OAuthProviderStore.FindByIdOrName(c, null, provider), UserStore.Exists(c, null, userId)));
        if (!userExists)
        {
            throw new NotFoundException("The user");
        }
        if (record is null)
        {
            throw new NotFoundException($"The OAuth provider '{provider}'");
        }
        if (record.DeviceAuthorizationUrl is null)
        {
            throw ValidationException.For("providerId",
                $"OAuth provider {record.Name} has no deviceAuthorizationUrl: it cannot be connected with the device flow (RFC 8628).");
        }
        var (device, problem) = await oauth.StartDeviceAsync(record, providers.OpenSecret(record), cancellationToken);
        var now = time.GetUtcNow();
        if (device is null)
        {
            await writes.ExecuteAsync((c, t) => audit.Append(c, t, new AuditEntry(ConnectionAuditActions.DeviceStart, AuditOutcomes.Failure)
            {
                Actor = actor, UserId = userId, WorkspaceId = workspaceId, CredentialId = record.Id, RemoteAddress = remoteAddress,
                Detail = $"{record.Name}: {problem}; nothing stored",
            }));
            throw new UpstreamFailedException($"OAuth provider {record.Name}: {problem}");
        }
        var id = OpaqueToken.NewId(ConnectionRecord.IdPrefix);
        var connection = new ConnectionRecord(id, record.Id, userId, workspaceId, ConnectionStatus.Pending, device.UserCode, device.VerificationUri,
            device.VerificationUriComplete, now + device.ExpiresIn, device.Interval, now + device.Interval,
            TokenPair.SealText(keyring, device.DeviceCode, ConnectionRecord.DeviceContextFor(id, userId, record.Id)),
            0, null, null, false, null, 0, null, null, now, null, null);
        await writes.ExecuteAsync((c, t) =>
        {
            ConnectionStore.InsertPending(c, t, connection);
            audit.Append(c, t, new AuditEntry(ConnectionAuditActions.DeviceStart, AuditOutcomes.Success)
            {
                Actor = actor, UserId = userId, WorkspaceId = workspaceId, CredentialId = id, RemoteAddress = remoteAddress,
                Detail = $"{record.Name}: device flow started, user code valid until {connection.DeviceExpiresAt:O}",
            });
        });
        DeviceGrantPoller.Wake();
        return connection;
    }

    public async Task DisconnectAsync(string id, Caller? caller, string actor, string? remoteAddress)
    {
        // Not found is thrown inside the unit, so it wins over a failed If-Match (no probing of ids).
        await writes.ExecuteAsync((c, t) =>
        {
            var connection = ConnectionStore.Find(c, t, id);
            if (connection is null || (caller is not null && !caller.CanSee(connection.UserId)))
            {
                throw new NotFoundException("The connection");
            }
            var queued = End(c, t, connection, time.GetUtcNow());
            audit.Append(c, t, new AuditEntry(ConnectionAuditActions.Disconnect, AuditOutcomes.Success)
            {
                Actor = actor, UserId = connection.UserId, CredentialId = id, RemoteAddress = remoteAddress,
                Detail = $"status was {connection.Status}; {queued} token(s) queued for revocation at the provider",
            });
        });
    }

    /// <summary>
    /// Stores a granted token pair inside the caller's transaction, as every grant does (device
    /// flow, browser redirect, reconnect): sealed to the row at its next token version, the row
    /// active, every other connection of the user with this provider ended, and the connect
    /// audited. False (nothing written) when the row is no longer <paramref name="expectedStatus"/>.
    /// </summary>
    public bool StoreGranted(DbConnection c, DbTransaction t, ConnectionRecord row, string expectedStatus, OAuthProviderRecord provider, TokenPair tokens,
        TimeSpan? expiresIn, string actor, string? remoteAddress, DateTimeOffset now)
    {
        DateTimeOffset? accessExpires = expiresIn is { } lifetime ? now + lifetime : null;
        var version = row.TokenVersion + 1;
        var sealedTokens = tokens.Seal(keyring, ConnectionRecord.TokensContextFor(row.Id, row.UserId, row.ProviderId, version));
        if (!ConnectionStore.Grant(c, t, row.Id, expectedStatus, row.TokenVersion, sealedTokens, accessExpires, tokens.RefreshToken is not null, now))
        {
            return false;
        }
        if (expectedStatus == ConnectionStatus.ReconnectRequired)
        {
            // Leases carry the replaced access token (which the provider may have revoked on re-authorization): sidecars drop them.
            EndLeases(c, t, row, now);
        }
        var replaced = ConnectionStore.ReplacedBy(c, t, row);
        foreach (var old in replaced)
        {
            End(c, t, old, now);
        }
        audit.Append(c, t, new AuditEntry(ConnectionAuditActions.Connect, AuditOutcomes.Success)
        {
            Actor = actor, UserId = row.UserId, WorkspaceId = row.WorkspaceId, CredentialId = row.Id, RemoteAddress = remoteAddress,
            Detail = $"{provider.Name}: " + (expectedStatus == ConnectionStatus.ReconnectRequired ? $"reconnected, tokens replaced (version {version})" : "connected")
                + $"; access token expires {(accessExpires is { } at ? at.ToString("O") : "never (no expires_in)")}, "
                + (tokens.RefreshToken is null ? "no refresh token" : "refresh token stored")
                + (replaced.Count == 0 ? "" : "; replaces " + string.Join(' ', replaced.Select(r => r.Id))),
        });
        return true;
    }

    /// <summary>
    /// Ends a connection inside the caller's transaction: its leases end and sidecars are told, its
    /// tokens are queued for RFC 7009 revocation (when the provider offers it), and the row goes.
    /// Returns how many tokens were queued.
    /// </summary>
    public int End(DbConnection c, DbTransaction t, ConnectionRecord connection, DateTimeOffset now)
    {
        EndLeases(c, t, connection, now);
        var queued = 0;
        var provider = OAuthProviderStore.Find(c, t, connection.ProviderId);
        if (provider?.RevocationUrl is not null && connection.SealedTokens is { } sealedTokens)
        {
            TokenPair? pair = null;
            try
            {
                pair = TokenPair.Open(keyring, sealedTokens, connection.TokensContext);
            }
            catch (SecretIntegrityException)
            {
                // Tampered with: nothing trustworthy to revoke; the row still goes.
            }
            // The refresh token first: revoking it ends the grant at most providers.
            foreach (var (token, type) in new[] { (pair?.RefreshToken, "refresh_token"), (pair?.AccessToken, "access_token") })
            {
                if (token is null || (type == "access_token" && connection.AccessExpiresAt is { } expires && expires <= now))
                {
                    continue;
                }
                ConnectionRevocationOutbox.Queue(c, t, keyring, provider.Id, connection, type, token, now, queued);
                queued++;
            }
        }
        ConnectionStore.Delete(c, t, connection.Id);
        if (queued > 0)
        {
            WriteQueue.AfterCommit(ConnectionRevocationWorker.Wake);
        }
        return queued;
    }

    private void EndLeases(DbConnection c, DbTransaction t, ConnectionRecord connection, DateTimeOffset now)
    {
        Sql.Execute(c, t, "UPDATE leases SET revoked_at = @now WHERE credential_id = @id AND revoked_at IS NULL", ("@id", connection.Id), ("@now", now.ToDb()));
        revocations.Append(c, t, RevocationKinds.Credential, connection.Id, userId: connection.UserId);
    }
}
