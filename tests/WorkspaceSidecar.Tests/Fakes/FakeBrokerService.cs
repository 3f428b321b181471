using Grpc.Core;
using Xares.Protos.Broker.V1;

namespace Xares.Sidecar.Tests.Fakes;

/// <summary>The broker's gRPC surface, backed by <see cref="FakeBrokerState"/>.</summary>
internal sealed class FakeBrokerService(FakeBrokerState state) : SidecarBroker.SidecarBrokerBase
{
    public override Task<SessionGrant> OpenSession(OpenSessionRequest request, ServerCallContext context)
    {
        var grant = state.Open(request.BootstrapToken);
        return grant is null
            ? throw new RpcException(new Status(StatusCode.Unauthenticated, "bootstrap token unknown or already used"))
            : Task.FromResult(grant);
    }

    public override Task<SessionGrant> RefreshSession(RefreshSessionRequest request, ServerCallContext context) =>
        Task.FromResult(state.Refresh(BearerToken(context), request.RetryKey));

    public override Task<GitCredentialReply> GetGitCredential(GitCredentialRequest request, ServerCallContext context)
    {
        Authenticate(context);
        if (state.GitCredentialFailure is { } failure)
        {
            throw new RpcException(failure);
        }
        var lease = state.Issue(request);
        return Task.FromResult(lease is null ? new GitCredentialReply { NoMatch = new NoMatch() } : new GitCredentialReply { Lease = lease });
    }

    public override Task<ReportRejectionReply> ReportRejection(ReportRejectionRequest request, ServerCallContext context)
    {
        Authenticate(context);
        return Task.FromResult(new ReportRejectionReply { Counted = state.Reject(request.LeaseId) });
    }

    public override Task<ReportForeignHelperReply> ReportForeignHelper(ReportForeignHelperRequest request, ServerCallContext context)
    {
        Authenticate(context);
        lock (state.ForeignHelperReports)
        {
            state.ForeignHelperReports.Add(request);
        }
        return Task.FromResult(new ReportForeignHelperReply { Recorded = true });
    }

    public override Task<ValidateLeasesReply> ValidateLeases(ValidateLeasesRequest request, ServerCallContext context)
    {
        Authenticate(context);
        return Task.FromResult(state.Validate(request.LeaseIds));
    }

    public override Task<ListGitTargetsReply> ListGitTargets(ListGitTargetsRequest request, ServerCallContext context)
    {
        Authenticate(context);
        var reply = new ListGitTargetsReply();
        reply.Targets.AddRange(state.Targets);
        return Task.FromResult(reply);
    }

    public override Task<ListAiCredentialsReply> ListAiCredentials(ListAiCredentialsRequest request, ServerCallContext context)
    {
        Authenticate(context);
        return Task.FromResult(state.ListAi());
    }

    public override Task<AiCredentialReply> GetAiCredential(AiCredentialRequest request, ServerCallContext context)
    {
        Authenticate(context);
        return Task.FromResult(state.IssueAi(request));
    }

    public override Task<ReportAiUsageReply> ReportAiUsage(ReportAiUsageRequest request, ServerCallContext context)
    {
        Authenticate(context);
        return Task.FromResult(new ReportAiUsageReply { LimitReached = state.RecordUsage(request) });
    }

    public override Task<DrawAiRequestsReply> DrawAiRequests(DrawAiRequestsRequest request, ServerCallContext context)
    {
        Authenticate(context);
        return Task.FromResult(state.DrawAi(request));
    }

    public override async Task WatchRevocations(WatchRevocationsRequest request, IServerStreamWriter<RevocationEvent> responseStream, ServerCallContext context)
    {
        Authenticate(context);
        state.AdmitWatch();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, state.StreamKill);
        state.RecordWatch(request.AfterSequence);
        await context.WriteResponseHeadersAsync([]);
        var last = request.AfterSequence;
        try
        {
            while (true)
            {
                var (events, changed) = state.RevocationsAfter(last);
                foreach (var revocation in events)
                {
                    await responseStream.WriteAsync(revocation, ended.Token);
                    last = revocation.Sequence;
                }
                await changed.WaitAsync(ended.Token);
            }
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            // Killed: drop the connection the way a dying broker does.
            context.GetHttpContext().Abort();
        }
    }

    private static string? BearerToken(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        return header is not null && header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : null;
    }

    private void Authenticate(ServerCallContext context)
    {
        if (state.CheckToken(BearerToken(context)) != "ok")
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "session token not valid"));
        }
    }
}
