using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.EndToEnd.Tests.Infrastructure;
using Xares.Protos.Broker.V1;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// Usage and limits decided by the real broker: a proxied request counts when the broker grants
/// it. Sidecars that lie are played by this test speaking the broker's gRPC with real sessions;
/// honest ones are the published sidecar.
/// </summary>
public sealed class AiBudgetTests(AiFixture fixture) : IClassFixture<AiFixture>
{
    [Fact]
    public async Task UnderReportingSidecar_ZeroRequestsReported_GrantedRequestsStillCounted()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        var (client, auth, workspaceId, channel) = await OpenSessionAsync(user.UserId);
        using (channel)
        {
            var lease = (await client.GetAiCredentialAsync(new AiCredentialRequest { Provider = "openai", Mode = "proxy" }, auth)).Lease;
            var drawn = await client.DrawAiRequestsAsync(new DrawAiRequestsRequest { LeaseId = lease.LeaseId, Requests = 10 }, auth);

            // Whatever the sidecar then forwards, it says it forwarded nothing.
            await client.ReportAiUsageAsync(new ReportAiUsageRequest { LeaseId = lease.LeaseId, Requests = 0, InputTokens = 5 }, auth);

            Assert.Equal(32, lease.GrantedRequests);
            Assert.Equal(10, drawn.Granted);
            var usage = (await fixture.GetCredentialAsync(user.OpenAiCredentialId)).GetProperty("usage");
            Assert.Equal(42, usage.GetProperty("usesThisMonth").GetInt64());
            var mine = Assert.Single(usage.GetProperty("byWorkspace").EnumerateArray());
            Assert.Equal(workspaceId, mine.GetProperty("workspaceId").GetString());
            Assert.Equal(42, mine.GetProperty("requests").GetInt64());
            Assert.Equal(5, mine.GetProperty("inputTokens").GetInt64());
        }
    }

    [Fact]
    public async Task OverReportingSidecar_TokensBeyondTheBoundOrAnotherWorkspacesLease_RefusedNothingMoved()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false, monthlyLimit: 1000);
        var (victim, victimAuth, _, victimChannel) = await OpenSessionAsync(user.UserId);
        var (attacker, attackerAuth, attackerWorkspace, attackerChannel) = await OpenSessionAsync(user.UserId);
        using (victimChannel)
        using (attackerChannel)
        {
            var lease = (await victim.GetAiCredentialAsync(new AiCredentialRequest { Provider = "openai", Mode = "proxy" }, victimAuth)).Lease;
            var before = (await fixture.GetCredentialAsync(user.OpenAiCredentialId)).GetProperty("usage");

            // 32 requests granted: at most 32 × 2,000,000 tokens of each kind.
            var tooMany = await Assert.ThrowsAsync<RpcException>(async () => await victim.ReportAiUsageAsync(
                new ReportAiUsageRequest { LeaseId = lease.LeaseId, Requests = 1, InputTokens = 64_000_001 }, victimAuth));
            var foreign = new List<RpcException>();
            foreach (var call in new Func<Task>[]
            {
                async () => await attacker.DrawAiRequestsAsync(new DrawAiRequestsRequest { LeaseId = lease.LeaseId, Requests = 1000 }, attackerAuth),
                async () => await attacker.ReportAiUsageAsync(new ReportAiUsageRequest { LeaseId = lease.LeaseId, ReturnedRequests = 32 }, attackerAuth),
                async () => await attacker.ReportAiUsageAsync(new ReportAiUsageRequest { LeaseId = lease.LeaseId, Requests = 32, OutputTokens = 1_000_000 }, attackerAuth),
            })
            {
                foreign.Add(await Assert.ThrowsAsync<RpcException>(call));
            }
            var negative = await Assert.ThrowsAsync<RpcException>(async () => await victim.ReportAiUsageAsync(
                new ReportAiUsageRequest { LeaseId = lease.LeaseId, ReturnedRequests = -5 }, victimAuth));

            Assert.Equal(StatusCode.FailedPrecondition, tooMany.StatusCode);
            Assert.Contains("per request granted to the lease", tooMany.Status.Detail, StringComparison.Ordinal);
            Assert.All(foreign, e => Assert.Equal(StatusCode.NotFound, e.StatusCode));
            Assert.Equal(StatusCode.InvalidArgument, negative.StatusCode);
            var after = (await fixture.GetCredentialAsync(user.OpenAiCredentialId)).GetProperty("usage");
            Assert.Equal(32, after.GetProperty("usesThisMonth").GetInt64());
            foreach (var counter in new[] { "usesThisMonth", "totalUses", "inputTokens", "outputTokens" })
            {
                Assert.Equal(before.GetProperty(counter).GetInt64(), after.GetProperty(counter).GetInt64());
            }
            Assert.DoesNotContain(after.GetProperty("byWorkspace").EnumerateArray(), w => w.GetProperty("workspaceId").GetString() == attackerWorkspace);
        }
    }

    [Fact]
    public async Task Run_OneRequest_UnusedAllowanceGivenBackWhenTheRunEnds()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "node", "openai-client.mjs", "chat"]).ShouldSucceedAsync();

        JsonElement usage = default;
        var settled = await Poll.UntilAsync(async () =>
        {
            usage = (await fixture.GetCredentialAsync(user.OpenAiCredentialId)).GetProperty("usage");
            return usage.GetProperty("usesThisMonth").GetInt64() == 1 && usage.GetProperty("inputTokens").GetInt64() > 0;
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.True(settled, "the run's 31 unused requests were not given back: " + usage.GetRawText());
    }

    private async Task<(SidecarBroker.SidecarBrokerClient Client, Metadata Auth, string WorkspaceId, GrpcChannel Channel)> OpenSessionAsync(string userId)
    {
        var grant = await fixture.Admin.CreateWorkspaceAsync(userId, fixture.NextName("lying-"));
        var channel = GrpcChannel.ForAddress(fixture.Broker.GrpcUrl);
        var client = new SidecarBroker.SidecarBrokerClient(channel);
        var session = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = grant.BootstrapToken });
        return (client, new Metadata { { "authorization", "Bearer " + session.SessionToken } }, session.WorkspaceId, channel);
    }
}
