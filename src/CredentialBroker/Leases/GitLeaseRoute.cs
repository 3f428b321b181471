using System.Data.Common;
using Xares.Broker.Connections;
using Xares.Broker.Credentials;
using Xares.Broker.Minted;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;
using Xares.GitTargets;

namespace Xares.Broker.Leases;

/// <summary>
/// What decides which source serves a git fill, read once per fill on one pooled connection: the
/// session (authenticated once for all sources), the workspace's repository grants on the host and
/// the host's GitHub App (the minted source), the host's OAuth provider and the owner's current
/// connection there (the connection source), and on PostgreSQL the owner's stored candidates (the
/// <see cref="LeaseIssuer"/>'s plan). Each source re-checks what it relies on in its write unit.
/// </summary>
internal sealed record GitLeaseRoute(SessionLookup Lookup, IReadOnlyList<RepositoryGrant> Grants, GitHubAppRecord? App,
    OAuthProviderRecord? Provider, ConnectionRecord? Connection, List<GitCredentialRow> Candidates)
{
    public static GitLeaseRoute Read(DbConnection c, DatabaseKind kind, string? sessionToken, GitRequestTarget target, DateTimeOffset now)
    {
        // PostgreSQL reads the session and the stored candidates in one statement; SQLite's writer
        // decides stored leases itself (LeaseIssuer), so it only needs the session here.
        var (lookup, candidates) = kind == DatabaseKind.Postgres
            ? CredentialStore.AuthenticateWithGitCandidates(c, sessionToken, now, target.Scheme, target.Host, target.Port)
            : (SessionStore.Authenticate(c, null, sessionToken, now), []);
        if (lookup is not { Check: SessionCheck.Valid, Session: { } session })
        {
            return new GitLeaseRoute(lookup, [], null, null, null, candidates);
        }
        var grants = RepositoryGrant.Deserialize(WorkspaceStore.RepositoriesOf(c, session.WorkspaceId))?
            .Where(g => g.SameHost(target.Scheme, target.Host, target.Port)).ToList() ?? [];
        if (grants.Count > 0)
        {
            // A repository-scoped host: only the minted source answers, so nothing else is read.
            return new GitLeaseRoute(lookup, grants, GitHubAppStore.FindByGitOrigin(c, null, target.Scheme, target.Host, target.Port), null, null, candidates);
        }
        var provider = OAuthProviderStore.FindByGitOrigin(c, null, target.Scheme, target.Host, target.Port);
        var connection = provider is null ? null : ConnectionStore.CurrentFor(c, null, session.UserId, provider.Id);
        return new GitLeaseRoute(lookup, grants, null, provider, connection, candidates);
    }
}
