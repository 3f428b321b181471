using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xares.Broker.Credentials;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Leases;
using Xares.Broker.RateLimiting;
using Xares.Broker.Revocations;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Sidecars;

/// <summary>The broker's face to workspace sidecars (protos/xares/broker/v1/sidecar_broker.proto).</summary>
internal sealed partial class SidecarBrokerGrpcService(
    SessionService sessions,
    LeaseIssuer leaseIssuer,
    AiLeaseIssuer aiLeaseIssuer,
    AiUsageReporter aiUsage,
    AiRequestGranter aiGrants,
    RejectionReporter rejections,
    ForeignHelperReporter foreignHelpers,
    RevocationWatcher revocationWatcher,
    RevocationStreamSlots revocationStreams,
    Database database,
    AuthFailureAudit failures,
    SessionCallLimiter callLimiter,
    Connections.ConnectionLifecycle connectLifecycle,
    TimeProvider time,
    ILogger<SidecarBrokerGrpcService> logger) : SidecarBroker.SidecarBrokerBase
{
    public override async Task<SessionGrant> OpenSession(OpenSessionRequest request, ServerCallContext context)
    {
        var grant = await sessions.OpenAsync(request.BootstrapToken, Remote(context))
            ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "The bootstrap token is unknown, already used, expired, or its workspace is revoked."));
        SidecarLog.SessionOpened(logger, grant.Session.WorkspaceId, grant.Session.SessionId);
        return ToGrant(grant);
    }

    public override async Task<SessionGrant> RefreshSession(RefreshSessionRequest request, ServerCallContext context)
    {
        var (check, grant) = await sessions.RefreshAsync(SessionToken(context), request.RetryKey.ToByteArray(), Remote(context));
        return grant is not null ? ToGrant(grant) : throw await Denied(check, context);
    }

    public override async Task<GitCredentialReply> GetGitCredential(GitCredentialRequest request, ServerCallContext context)
    {
        var outcome = await leaseIssuer.IssueGitAsync(SessionToken(context),
            new GitLeaseRequest(request.Protocol, request.Host, request.Path, request.Username), Remote(context));
        Hosting.BrokerMetrics.LeaseRequest("git", outcome.Session != SessionCheck.Valid ? "denied" : outcome.Lease is null ? "no_match" : "issued");
        if (outcome.Session != SessionCheck.Valid)
        {
            throw await Denied(outcome.Session, context);
        }
        callLimiter.LearnVerified(SessionToken(context), outcome.Lease?.Lease.SessionId, time.GetUtcNow());
        if (outcome.Lease is not { } issued)
        {
            return new GitCredentialReply { NoMatch = new NoMatch() };
        }
        return new GitCredentialReply
        {
            Lease = new GitLease
            {
                LeaseId = issued.Lease.Id,
                CredentialId = issued.Lease.CredentialId,
                Username = issued.Username,
                Secret = issued.Secret,
                ExpiresAt = Timestamp.FromDateTimeOffset(issued.Lease.ExpiresAt),
                SecretVersion = issued.Lease.SecretVersion,
            },
        };
    }

    public override async Task<ReportRejectionReply> ReportRejection(ReportRejectionRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        return new ReportRejectionReply { Counted = await rejections.ReportAsync(session, request.LeaseId, Remote(context)) };
    }

    public override async Task<ReportForeignHelperReply> ReportForeignHelper(ReportForeignHelperRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        return new ReportForeignHelperReply
        {
            Recorded = await foreignHelpers.ReportAsync(session, request.LeaseId, request.Operation, request.Helpers, Remote(context)),
        };
    }

    public override async Task<ValidateLeasesReply> ValidateLeases(ValidateLeasesRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        var (valid, sequence) = await database.ReadAsync(c =>
            (LeaseStore.StillValid(c, session.WorkspaceId, request.LeaseIds, time.GetUtcNow()), RevocationLog.LatestSequence(c)));
        var reply = new ValidateLeasesReply { RevocationSequence = sequence };
        reply.ValidLeaseIds.AddRange(valid);
        return reply;
    }

    public override async Task WatchRevocations(WatchRevocationsRequest request, IServerStreamWriter<RevocationEvent> responseStream, ServerCallContext context)
    {
        var session = await Authenticate(context);
        using var slot = revocationStreams.TryTake(session.SessionId) ?? throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"This session already has {RevocationStreamSlots.PerSession} revocation streams open on this broker; close one before opening another."));
        // Headers now, so the sidecar knows the stream is live before the first revocation.
        await context.WriteResponseHeadersAsync([]);
        try
        {
            await revocationWatcher.StreamAsync(session, request.AfterSequence, responseStream.WriteAsync, context.CancellationToken);
        }
        catch (RevocationStreamOverflowException ex)
        {
            // Retryable: the sidecar reconnects from the last sequence it got and reads the rest from the log.
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
        // The stream ends when the session does; the sidecar learns why on its next call.
        throw new RpcException(new Status(StatusCode.Unauthenticated, "The session has ended."));
    }

    public override async Task<ListGitTargetsReply> ListGitTargets(ListGitTargetsRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        // Stored lists were validated on the way in; an unparseable one serves nothing.
        var allowList = HostAllowList.TryParse(session.AllowedHosts, out var parsed, out _) ? parsed : null;
        var (origins, repositories, apps, connected) = await database.ReadAsync(c => (CredentialStore.ListGitOrigins(c, session.UserId),
            Workspaces.RepositoryGrant.Deserialize(Workspaces.WorkspaceStore.RepositoriesOf(c, session.WorkspaceId)), Minted.GitHubAppStore.GitOrigins(c),
            Connections.OAuthProviderStore.ConnectedGitOrigins(c, session.UserId)));
        var reply = new ListGitTargetsReply();
        foreach (var origin in origins)
        {
            if (allowList is not null && GitDestination.TryParse(origin.OriginUrl, out var destination, out _) && allowList.Allows(destination.Host, destination.Port))
            {
                reply.Targets.Add(new GitTarget { Url = origin.OriginUrl, UseHttpPath = origin.HasPath });
            }
        }
        // Hosts of the owner's OAuth connections.
        foreach (var origin in connected.Where(o => allowList is not null && allowList.Allows(o.Host, o.Port) && reply.Targets.All(t => t.Url != o.GitUrl)))
        {
            reply.Targets.Add(new GitTarget { Url = origin.GitUrl, UseHttpPath = false });
        }
        // Hosts where the workspace's repositories get minted tokens: git must send the path (repository scoping).
        foreach (var app in apps.Where(a => allowList is not null && allowList.Allows(a.Host, a.Port)
            && repositories?.Any(r => r.SameHost(a.Scheme, a.Host, a.Port)) == true))
        {
            if (reply.Targets.FirstOrDefault(t => t.Url == app.GitUrl) is { } existing)
            {
                existing.UseHttpPath = true;
            }
            else
            {
                reply.Targets.Add(new GitTarget { Url = app.GitUrl, UseHttpPath = true });
            }
        }
        return reply;
    }

    public override async Task<ListAiCredentialsReply> ListAiCredentials(ListAiCredentialsRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        var allowList = HostAllowList.TryParse(session.AllowedHosts, out var parsed, out _) ? parsed : null;
        var now = time.GetUtcNow();
        var credentials = await database.ReadAsync(c => CredentialStore.ListAi(c, null, session.UserId));
        var reply = new ListAiCredentialsReply();
        foreach (var credential in credentials.Where(r => r.ExpiresAt is null || r.ExpiresAt > now))
        {
            // Only what GetAiCredential could issue: unexpired, and to a host the workspace may reach.
            // The rest are named as excluded by the policy, so `run` can say why a provider is missing.
            if (allowList is null || AiProviderEndpoints.Destination(credential.Provider, credential.Url) is not { } hostPort)
            {
                continue;
            }
            if (!allowList.Allows(hostPort.Host, hostPort.Port))
            {
                reply.ExcludedByPolicy.Add(new PolicyExcludedAiCredential
                {
                    CredentialId = credential.Id, Provider = credential.Provider, Host = $"{hostPort.Host}:{hostPort.Port}",
                });
            }
            else
            {
                reply.Credentials.Add(new AiCredentialInfo
                {
                    CredentialId = credential.Id, Provider = credential.Provider, Name = credential.Name ?? "", BaseUrl = credential.Url ?? "",
                    LimitReached = MonthlyQuota.Of(credential, now).IsReached,
                    ProxyOnly = credential.Delivery == CredentialDelivery.Proxy,
                });
            }
        }
        return reply;
    }

    public override async Task<AiCredentialReply> GetAiCredential(AiCredentialRequest request, ServerCallContext context)
    {
        var outcome = await aiLeaseIssuer.IssueAsync(SessionToken(context),
            new AiLeaseRequest(request.Provider, request.CredentialId, request.Mode), Remote(context));
        Hosting.BrokerMetrics.LeaseRequest("ai", outcome.Session != SessionCheck.Valid ? "denied"
            : outcome.LimitReached is not null ? "limit_reached" : outcome.ProxyOnly is not null ? "proxy_only" : outcome.Lease is null ? "no_match" : "issued");
        if (outcome.Session != SessionCheck.Valid)
        {
            throw await Denied(outcome.Session, context);
        }
        callLimiter.LearnVerified(SessionToken(context), outcome.Lease?.Lease.SessionId, time.GetUtcNow());
        if (outcome.LimitReached is { } refusal)
        {
            return new AiCredentialReply
            {
                LimitReached = new LimitReached
                {
                    CredentialId = refusal.CredentialId, MonthlyLimit = refusal.Quota.MonthlyLimit ?? 0, UsesThisMonth = refusal.Quota.UsesThisMonth,
                },
            };
        }
        if (outcome.ExcludedByPolicy is { } excluded)
        {
            return new AiCredentialReply
            {
                ExcludedByPolicy = new PolicyExcludedAiCredential { CredentialId = excluded.CredentialId, Provider = excluded.Provider, Host = excluded.Host },
            };
        }
        if (outcome.ProxyOnly is { } proxyOnly)
        {
            return new AiCredentialReply { ProxyOnly = new ProxyOnly { CredentialId = proxyOnly } };
        }
        if (outcome.Lease is not { } issued)
        {
            return new AiCredentialReply { NoMatch = new NoMatch() };
        }
        return new AiCredentialReply
        {
            Lease = new AiLease
            {
                LeaseId = issued.Lease.Id,
                CredentialId = issued.Lease.CredentialId,
                Provider = issued.Provider,
                Secret = issued.Secret,
                BaseUrl = issued.BaseUrl ?? "",
                ExpiresAt = Timestamp.FromDateTimeOffset(issued.Lease.ExpiresAt),
                SecretVersion = issued.Lease.SecretVersion,
                GrantedRequests = issued.GrantedRequests,
            },
        };
    }

    public override async Task<ReportAiUsageReply> ReportAiUsage(ReportAiUsageRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        var reached = await aiUsage.ReportAsync(session,
            new AiUsageReport(request.LeaseId, request.Requests, request.InputTokens, request.OutputTokens, request.ReturnedRequests), Remote(context));
        return new ReportAiUsageReply { LimitReached = reached };
    }

    public override async Task<DrawAiRequestsReply> DrawAiRequests(DrawAiRequestsRequest request, ServerCallContext context)
    {
        var session = await Authenticate(context);
        var outcome = await aiGrants.DrawAsync(session, request.LeaseId, request.Requests, Remote(context));
        return new DrawAiRequestsReply
        {
            Granted = outcome.Granted,
            CredentialId = outcome.CredentialId,
            LeaseEnded = outcome.LeaseEnded,
            LimitReached = outcome.Quota?.IsReached ?? false,
            MonthlyLimit = outcome.Quota?.MonthlyLimit ?? 0,
            UsesThisMonth = outcome.Quota?.UsesThisMonth ?? 0,
        };
    }

    private async Task<SessionContext> Authenticate(ServerCallContext context)
    {
        var token = SessionToken(context);
        var lookup = await sessions.AuthenticateAsync(token, Remote(context));
        if (lookup.Check != SessionCheck.Valid)
        {
            throw await Denied(lookup.Check, context);
        }
        // From now on this token spends its session's bucket, not its address's.
        callLimiter.Learn(token, lookup.Session!.SessionId, lookup.Session.TokenExpiresAt);
        return lookup.Session;
    }

    private async Task<RpcException> Denied(SessionCheck check, ServerCallContext context)
    {
        Hosting.BrokerMetrics.AuthFailures.WithLabels("grpc").Inc();
        if (check is SessionCheck.Unknown or SessionCheck.Expired)
        {
            await failures.RecordAsync("sidecar", Remote(context), $"{context.Method}: session token {check.ToString().ToLowerInvariant()}");
        }
        var message = check switch
        {
            SessionCheck.Expired => "The session token has expired; refresh earlier or bootstrap again.",
            SessionCheck.Revoked => "The session or its workspace has been revoked.",
            SessionCheck.Replayed => "A superseded session token was presented; the workspace has been revoked.",
            _ => "The session token is not valid.",
        };
        return new RpcException(new Status(check == SessionCheck.Revoked || check == SessionCheck.Replayed ? StatusCode.PermissionDenied : StatusCode.Unauthenticated, message));
    }

    private static string? SessionToken(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        const string bearer = "Bearer ";
        return header is not null && header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? header[bearer.Length..].Trim() : null;
    }

    private static string? Remote(ServerCallContext context) => context.GetHttpContext().Connection.RemoteIpAddress?.ToString();

    private static SessionGrant ToGrant(SessionService.Grant grant) => new()
    {
        SessionToken = grant.Token,
        SessionId = grant.Session.SessionId,
        WorkspaceId = grant.Session.WorkspaceId,
        TokenExpiresAt = Timestamp.FromDateTimeOffset(grant.Session.TokenExpiresAt),
        SessionExpiresAt = Timestamp.FromDateTimeOffset(grant.Session.SessionExpiresAt),
        RevocationSequence = grant.RevocationSequence,
    };
}
