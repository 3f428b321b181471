using Grpc.Core;
using Microsoft.Extensions.Logging;
using Xares.Protos.Broker.V1;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Leases;
using Xares.Sidecar.Sessions;
using LocalGitTarget = Xares.Protos.Sidecar.V1.GitTarget;

namespace Xares.Sidecar.Git;

/// <summary>Answers the git helper from the lease cache, or from the broker on a miss.</summary>
internal sealed class GitCredentialService(BrokerSession session, LeaseCache cache, BrokerLink link, TimeProvider time, ILogger<GitCredentialService> logger)
{
    // git waits on us: a miss while the broker is unreachable must fail well under 2 s.
    internal static readonly TimeSpan BrokerDeadline = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan TargetsDeadline = TimeSpan.FromSeconds(5);

    public async Task<SidecarResponse> GetAsync(GitGetRequest request, CancellationToken cancellationToken)
    {
        if (Invalid(request.Protocol, request.Host, request.Path, request.Username) is { } problem)
        {
            return Errors.BadRequest(problem);
        }
        // The broker would match nothing: answered here, and nothing is cached under it.
        if (LeaseKey.ForGit(request.Protocol, request.Host, request.Path, request.Username) is not { } key)
        {
            return new SidecarResponse { GitGet = new GitGetResponse { Found = false } };
        }
        if (session.Current is null)
        {
            return Errors.NotBootstrapped();
        }
        if (cache.Find(key) is { } cached)
        {
            SidecarLog.LeaseServedFromCache(logger, cached.LeaseId);
            return Found(cached);
        }
        if (link.State == LinkState.Disconnected)
        {
            link.RequestReconnect();
            return Errors.BrokerUnavailable(link.LastError);
        }
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(BrokerDeadline);
        try
        {
            // A second try only when a revocation overtook the lease we were being issued.
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var revision = cache.Revision;
                var reply = await session.CallAsync(
                    (client, options) => client.GetGitCredentialAsync(ToBroker(request), options),
                    BrokerDeadline,
                    budget.Token);
                if (reply.ResultCase != GitCredentialReply.ResultOneofCase.Lease)
                {
                    SidecarLog.NoMatch(logger, key.Protocol, key.Host);
                    return new SidecarResponse { GitGet = new GitGetResponse { Found = false } };
                }
                var lease = FromBroker(reply.Lease);
                var admission = cache.Admit(key, lease, revision);
                SidecarLog.LeaseIssued(logger, lease.LeaseId, lease.CredentialId, lease.ExpiresAt, admission.ToString());
                if (admission != Admission.Refused)
                {
                    return Found(lease);
                }
            }
            return Errors.Internal("the lease was revoked while it was being issued; try again");
        }
        catch (NoSessionException)
        {
            return Errors.NotBootstrapped();
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Unauthenticated && (RpcFailures.IsTransient(ex) || budget.IsCancellationRequested))
        {
            var description = RpcFailures.Describe(ex);
            link.RecordError(description);
            SidecarLog.BrokerCallFailed(logger, "GetGitCredential", description);
            return Errors.BrokerUnavailable(description);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Errors.BrokerUnavailable("the broker did not answer in time");
        }
        catch (RpcException ex)
        {
            var description = RpcFailures.Describe(ex);
            SidecarLog.BrokerCallFailed(logger, "GetGitCredential", description);
            return ex.StatusCode == StatusCode.Unauthenticated
                ? Errors.NotBootstrapped()
                : Errors.Internal($"the broker refused the request: {description}");
        }
    }

    /// <summary>git got a 401 with this password: forget the lease and tell the broker, once per lease.</summary>
    public async Task<SidecarResponse> EraseAsync(GitEraseRequest request, CancellationToken cancellationToken)
    {
        if (Invalid(request.Protocol, request.Host, request.Path, request.Username) is { } problem)
        {
            return Errors.BadRequest(problem);
        }
        if (LeaseKey.ForGit(request.Protocol, request.Host, request.Path, request.Username) is not { } key)
        {
            return new SidecarResponse { GitErase = new GitEraseResponse { Reported = false } };
        }
        // Taking the lease out of the cache is atomic, so a lease is reported at most once.
        var lease = request.Password.Length == 0 ? null : cache.TakeBySecret(key, request.Password);
        if (lease is null)
        {
            return new SidecarResponse { GitErase = new GitEraseResponse { Reported = false } };
        }
        try
        {
            var reply = await session.CallAsync(
                (client, options) => client.ReportRejectionAsync(new ReportRejectionRequest { LeaseId = lease.LeaseId }, options),
                BrokerDeadline,
                cancellationToken);
            SidecarLog.RejectionReported(logger, lease.LeaseId, reply.Counted);
            return new SidecarResponse { GitErase = new GitEraseResponse { Reported = true } };
        }
        catch (Exception ex) when (ex is RpcException or NoSessionException)
        {
            SidecarLog.RejectionNotReported(logger, lease.LeaseId, RpcFailures.Describe(ex));
            return new SidecarResponse { GitErase = new GitEraseResponse { Reported = false } };
        }
    }

    /// <summary>
    /// Rule h could not hold for this git call (a helper other than Xares follows it, e.g. from
    /// `git -c`): the broker audits it against the lease whose secret git passed on.
    /// </summary>
    public async Task<SidecarResponse> ForeignHelperAsync(GitForeignHelperRequest request, CancellationToken cancellationToken)
    {
        if (Invalid(request.Protocol, request.Host, request.Path, request.Username) is { } problem)
        {
            return Errors.BadRequest(problem);
        }
        var lease = LeaseKey.ForGit(request.Protocol, request.Host, request.Path, request.Username) is not { } key
            || request.Password.Length == 0 || request.Helpers.Count == 0
            ? null
            : cache.FindBySecret(key, request.Password);
        if (lease is null)
        {
            return new SidecarResponse { GitForeignHelper = new GitForeignHelperResponse { Reported = false } };
        }
        var report = new ReportForeignHelperRequest { LeaseId = lease.LeaseId, Operation = request.Operation };
        report.Helpers.AddRange(request.Helpers);
        try
        {
            var reply = await session.CallAsync((client, options) => client.ReportForeignHelperAsync(report, options), BrokerDeadline, cancellationToken);
            SidecarLog.ForeignHelperReported(logger, lease.LeaseId, request.Operation, string.Join(", ", request.Helpers), reply.Recorded);
            return new SidecarResponse { GitForeignHelper = new GitForeignHelperResponse { Reported = reply.Recorded } };
        }
        catch (Exception ex) when (ex is RpcException or NoSessionException)
        {
            SidecarLog.ForeignHelperNotReported(logger, lease.LeaseId, RpcFailures.Describe(ex));
            return new SidecarResponse { GitForeignHelper = new GitForeignHelperResponse { Reported = false } };
        }
    }

    public async Task<SidecarResponse> TargetsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var reply = await session.CallAsync(
                (client, options) => client.ListGitTargetsAsync(new ListGitTargetsRequest(), options),
                TargetsDeadline,
                cancellationToken);
            var response = new GitTargetsResponse();
            response.Targets.AddRange(reply.Targets.Select(t => new LocalGitTarget { Url = t.Url, UseHttpPath = t.UseHttpPath }));
            return new SidecarResponse { GitTargets = response };
        }
        catch (NoSessionException)
        {
            return Errors.NotBootstrapped();
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
        {
            return Errors.NotBootstrapped();
        }
        catch (RpcException ex)
        {
            var description = RpcFailures.Describe(ex);
            link.RecordError(description);
            return Errors.BrokerUnavailable(description);
        }
    }

    private SidecarResponse Found(CachedLease lease) => new()
    {
        GitGet = new GitGetResponse
        {
            Found = true,
            Username = lease.Username,
            Password = lease.Secret,
            PasswordExpiryUtc = lease.ExpiresAt.ToUnixTimeSeconds(),
        },
    };

    private CachedLease FromBroker(GitLease lease) => new(
        lease.LeaseId,
        lease.CredentialId,
        lease.Username,
        lease.Secret,
        lease.ExpiresAt?.ToDateTimeOffset() ?? time.GetUtcNow(),
        lease.SecretVersion,
        time.GetUtcNow());

    private static GitCredentialRequest ToBroker(GitGetRequest request) => new()
    {
        Protocol = request.Protocol,
        Host = request.Host,
        Path = request.Path,
        Username = request.Username,
    };

    // Rule c: the broker matches nothing for these anyway; refusing early keeps them out of logs and keys.
    private static string? Invalid(string protocol, string host, string path, string username)
    {
        if (protocol.Length == 0 || host.Length == 0)
        {
            return "protocol and host are required";
        }
        foreach (var value in (ReadOnlySpan<string>)[protocol, host, path, username])
        {
            if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                return "CR, LF and NUL are not allowed in credential requests";
            }
        }
        return null;
    }
}
