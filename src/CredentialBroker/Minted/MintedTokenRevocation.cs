using System.Data.Common;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Minted;

/// <summary>
/// Ends minted tokens inside the caller's transaction: the token row is marked revoked, its
/// leases end, sidecars are told (a credential revocation naming the token, so they drop every
/// lease of it), and an upstream revocation is queued in the outbox. The call to the provider
/// happens later, in <see cref="UpstreamRevocationWorker"/>, so a provider that is down never
/// blocks or undoes the local revocation.
/// </summary>
internal sealed class MintedTokenRevocation(RevocationLog revocations)
{
    /// <summary>Revokes one token; false when it was already revoked or is unknown.</summary>
    public bool Revoke(DbConnection connection, DbTransaction transaction, string tokenId, DateTimeOffset now)
    {
        var token = MintedTokenStore.Find(connection, transaction, tokenId);
        if (token is null || !MintedTokenStore.MarkRevoked(connection, transaction, tokenId, now))
        {
            return false;
        }
        Sql.Execute(connection, transaction, "UPDATE leases SET revoked_at = @now WHERE credential_id = @id AND revoked_at IS NULL",
            ("@id", tokenId), ("@now", now.ToDb()));
        revocations.Append(connection, transaction, RevocationKinds.Credential, tokenId, userId: token.UserId);
        // An expired token needs no upstream call; one whose app is gone has nowhere to go.
        if (token.ExpiresAt > now)
        {
            Sql.Execute(connection, transaction,
                """
                INSERT INTO upstream_revocations (token_id, api_url, attempts, next_attempt_at, last_error, created_at)
                SELECT @id, api_url, 0, @now, NULL, @now FROM github_apps WHERE id = @source
                ON CONFLICT (token_id) DO NOTHING
                """,
                ("@id", tokenId), ("@source", token.SourceId), ("@now", now.ToDb()));
            WriteQueue.AfterCommit(UpstreamRevocationWorker.Wake);
        }
        return true;
    }

    /// <summary>The lease's token, when the lease is one of a minted token.</summary>
    public bool RevokeForLease(DbConnection connection, DbTransaction transaction, string leaseId, DateTimeOffset now)
    {
        var credentialId = Sql.Scalar(connection, transaction, "SELECT credential_id FROM leases WHERE id = @id", ("@id", leaseId)) as string;
        return credentialId is not null && credentialId.StartsWith(MintedToken.IdPrefix, StringComparison.Ordinal) && Revoke(connection, transaction, credentialId, now);
    }

    /// <summary>Every token of a workspace (revoked, or its session ended); returns their ids.</summary>
    public List<string> RevokeForWorkspace(DbConnection connection, DbTransaction transaction, string workspaceId, DateTimeOffset now) =>
        RevokeAll(connection, transaction, MintedTokenStore.Unrevoked(connection, transaction, "workspace_id = @ws", ("@ws", workspaceId)), now);

    /// <summary>Every token minted through a GitHub App (the app is being deleted).</summary>
    public List<string> RevokeForSource(DbConnection connection, DbTransaction transaction, string sourceId, DateTimeOffset now) =>
        RevokeAll(connection, transaction, MintedTokenStore.Unrevoked(connection, transaction, "source_id = @source", ("@source", sourceId)), now);

    /// <summary>
    /// A workspace's policy changed: its live tokens that reach a repository it no longer names with
    /// that access (or a host it no longer allows) are revoked. Returns their ids.
    /// </summary>
    public List<string> RevokeOutsidePolicy(DbConnection connection, DbTransaction transaction, string workspaceId,
        IReadOnlyList<RepositoryGrant>? repositories, HostAllowList? allowList, DateTimeOffset now)
    {
        var revoked = new List<string>();
        foreach (var token in MintedTokenStore.LiveForWorkspace(connection, transaction, workspaceId, now))
        {
            if (!StillAllowed(token, repositories, allowList) && Revoke(connection, transaction, token.Id, now))
            {
                revoked.Add(token.Id);
            }
        }
        return revoked;
    }

    private static bool StillAllowed(MintedToken token, IReadOnlyList<RepositoryGrant>? repositories, HostAllowList? allowList)
    {
        if (!GitDestination.TryParse(token.GitUrl, out var origin, out _) || (allowList is not null && !allowList.Allows(origin.Host, origin.Port)))
        {
            return false;
        }
        // A read token stays valid for repositories now named with write access; a write token needs write.
        return token.Repositories.All(repository => repositories?.Any(grant =>
            grant.Covers(origin.Scheme, origin.Host, origin.Port, token.Owner, repository)
            && (grant.Access == RepositoryGrant.Write || token.Access == RepositoryGrant.Read)) == true);
    }

    private List<string> RevokeAll(DbConnection connection, DbTransaction transaction, List<(string Id, string UserId)> tokens, DateTimeOffset now) =>
        tokens.Where(t => Revoke(connection, transaction, t.Id, now)).Select(t => t.Id).ToList();
}
