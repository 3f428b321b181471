using Xares.Broker.Audit;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Security;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.GitTargets;

namespace Xares.Broker.Connections;

/// <summary>
/// Git leases from the workspace owner's OAuth connections, asked after repository-scoped minted
/// tokens and before stored credentials (<see cref="LeaseIssuer"/>). A request for a provider's
/// git host gets the owner's active connection's access token (refreshed first when due), with
/// the provider's git username; the lease never outlives the access token. Null leaves the request
/// to stored credentials: no provider serves the host, the owner has no active connection there,
/// the host is not allowed (the stored path denies and audits that), or no token could be had.
/// </summary>
internal sealed class ConnectionGitSource(WriteQueue writes, AuditChain audit, SessionService sessions, ConnectionRefresher refresher,
    BrokerOptions options, TimeProvider time)
{
    /// <summary>
    /// The outcome for a fill on <paramref name="provider"/>'s git host with the owner's
    /// <paramref name="connection"/> there (both read by <see cref="GitLeaseRoute"/>); null leaves
    /// the request to stored credentials.
    /// </summary>
    public async Task<GitLeaseOutcome?> TryIssueAsync(string? sessionToken, SessionContext session, OAuthProviderRecord provider, ConnectionRecord? connection,
        GitRequestTarget target, GitLeaseRequest request, string? remoteAddress)
    {
        if (connection is not { Status: ConnectionStatus.Active }
            || !HostAllowList.TryParse(session.AllowedHosts, out var allowList, out _) || !allowList.Allows(target.Host, target.Port)
            || (!string.IsNullOrEmpty(request.Username) && !string.Equals(request.Username, provider.GitUsername, StringComparison.Ordinal)))
        {
            return null;
        }
        var (token, _) = await refresher.GetAsync(connection, provider);
        if (token is null)
        {
            // Why is audited by the refresher (refresh failure, reconnect required); stored credentials may still serve.
            return null;
        }
        return await writes.ExecuteAsync((c, t) =>
        {
            var issuedAt = time.GetUtcNow();
            var lookup = sessions.CheckWithin(c, t, sessionToken, issuedAt, remoteAddress);
            if (lookup.Check != SessionCheck.Valid)
            {
                return new GitLeaseOutcome(lookup.Check, null);
            }
            // Disconnected meanwhile, or the token expired while waiting: nothing is issued.
            if (ConnectionStore.Find(c, t, connection.Id) is not { Status: ConnectionStatus.Active } || token.ExpiresAt <= issuedAt)
            {
                return new GitLeaseOutcome(SessionCheck.Valid, null);
            }
            var expiresAt = issuedAt + options.LeaseLifetime;
            if (token.ExpiresAt is { } tokenExpiry && tokenExpiry < expiresAt)
            {
                expiresAt = tokenExpiry;
            }
            var lease = new LeaseRecord(OpaqueToken.NewId("lease_"), session.WorkspaceId, lookup.Session!.SessionId, connection.Id, token.Version, issuedAt, expiresAt,
                null, null);
            LeaseStore.Insert(c, t, lease);
            audit.Append(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Success)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = connection.Id, LeaseId = lease.Id,
                RemoteAddress = remoteAddress,
                Detail = $"{target.Scheme}://{target.Host}:{target.Port} with OAuth connection to {provider.Name} (token version {token.Version}) until {lease.ExpiresAt:O}",
            });
            return new GitLeaseOutcome(SessionCheck.Valid, new IssuedGitLease(lease, provider.GitUsername, token.AccessToken));
        });
    }
}
