using System.Text.Json;
using Grpc.Core;
using Xares.Broker.Hosting;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

/// <summary>
/// Proxied AI requests are counted when the broker grants them (first block with a proxy-mode
/// lease, more through DrawAiRequests), never as a sidecar reports them; reports, returns and tokens
/// are bounded by the lease's grants and attributed to its workspace. On SQLite and PostgreSQL.
/// </summary>
public abstract class AiRequestGrantTests(StorageBackend backend) : IAsyncLifetime
{
    private ContractDatabase _db = null!;
    private BrokerTestHost _host = null!;
    private string _alice = null!;

    public async Task InitializeAsync()
    {
        _db = await ContractDatabase.CreateAsync(backend, migrate: false);
        _host = await BrokerTestHost.StartAsync(o => o with { DataDirectory = _db.Directory, Database = _db.ConnectionString });
        _alice = await _host.CreateUserAsync("alice");
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Grant_ChargesTheLimitAtGrantTime_NoGrantBeyondIt()
    {
        var id = await _host.CreateAiCredentialAsync(_alice, "openai", "sk-grant-aaaaaaaaaaaa", monthlyLimit: 40);
        var first = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var second = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();

        var lease = (await first.GetAiAsync("openai")).Lease;
        Assert.Equal(32, lease.GrantedRequests);
        Assert.Equal(32, await UsesThisMonthAsync(id));

        var draw = await first.DrawAsync(lease.LeaseId, 16);
        Assert.Equal(8, draw.Granted);
        Assert.True(draw.LimitReached);
        Assert.Equal(40, draw.UsesThisMonth);
        Assert.Equal(id, draw.CredentialId);

        var refused = await first.DrawAsync(lease.LeaseId, 1);
        Assert.Equal(0, refused.Granted);
        Assert.True(refused.LimitReached);
        Assert.Equal(AiCredentialReply.ResultOneofCase.LimitReached, (await second.GetAiAsync("openai")).ResultCase);
        Assert.Equal(40, await UsesThisMonthAsync(id));
        var grants = await _host.AuditAsync("credential.grant", id);
        Assert.Contains("8 of 16 requests asked granted", grants, StringComparison.Ordinal);
        Assert.Contains("denied", grants, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_ZeroRequests_GrantedRequestsStillCounted()
    {
        var id = await _host.CreateAiCredentialAsync(_alice, "anthropic", "sk-ant-underreport-bbbb");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var lease = (await sidecar.GetAiAsync("anthropic")).Lease;
        Assert.Equal(64, (await sidecar.DrawAsync(lease.LeaseId, 64)).Granted);

        // An under-reporting sidecar: no requests, some tokens. The count is what was granted.
        Assert.False((await sidecar.ReportAsync(lease.LeaseId, 0, inputTokens: 10, outputTokens: 5)).LimitReached);

        var usage = (await _host.CredentialAsync(id)).GetProperty("usage");
        Assert.Equal(96, usage.GetProperty("usesThisMonth").GetInt64());
        Assert.Equal(96, usage.GetProperty("totalUses").GetInt64());
        Assert.Equal(10, usage.GetProperty("inputTokens").GetInt64());
    }

    [Fact]
    public async Task Return_AtMostGrantedMinusReturnedAndReported_RefundsTheCount()
    {
        var id = await _host.CreateAiCredentialAsync(_alice, "openai", "sk-refund-cccccccccccc", monthlyLimit: 100);
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var lease = (await sidecar.GetAiAsync("openai")).Lease;
        await sidecar.ReportAsync(lease.LeaseId, 5);

        var tooMuch = await Assert.ThrowsAsync<RpcException>(() => sidecar.ReportAsync(lease.LeaseId, 0, returned: 28));
        Assert.Equal(StatusCode.FailedPrecondition, tooMuch.StatusCode);
        Assert.Contains("27 granted requests not yet reported or returned", tooMuch.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(32, await UsesThisMonthAsync(id));

        await sidecar.ReportAsync(lease.LeaseId, 0, returned: 27);
        Assert.Equal(5, await UsesThisMonthAsync(id));
        var again = await Assert.ThrowsAsync<RpcException>(() => sidecar.ReportAsync(lease.LeaseId, 0, returned: 1));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
        var more = await Assert.ThrowsAsync<RpcException>(() => sidecar.ReportAsync(lease.LeaseId, 1));
        Assert.Equal(StatusCode.FailedPrecondition, more.StatusCode);
        var usage = (await _host.CredentialAsync(id)).GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("usesThisMonth").GetInt64());
        Assert.Equal(5, usage.GetProperty("totalUses").GetInt64());
    }

    [Fact]
    public async Task Tokens_BoundedByGrantedRequests_AttributedToTheReportingWorkspace()
    {
        var id = await _host.CreateAiCredentialAsync(_alice, "openai", "sk-tokens-dddddddddddd");
        var first = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var second = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var lease = (await first.GetAiAsync("openai")).Lease;
        var bound = 32 * Leases.AiUsageReporter.MaxTokensPerRequest;

        var over = await Assert.ThrowsAsync<RpcException>(() => first.ReportAsync(lease.LeaseId, 1, inputTokens: bound + 1));
        Assert.Equal(StatusCode.FailedPrecondition, over.StatusCode);
        Assert.Contains("tokens exceed", over.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await _host.CredentialAsync(id)).GetProperty("usage").GetProperty("inputTokens").GetInt64());

        await first.ReportAsync(lease.LeaseId, 1, inputTokens: bound - 10, outputTokens: 7);
        var cumulative = await Assert.ThrowsAsync<RpcException>(() => first.ReportAsync(lease.LeaseId, 1, inputTokens: 11));
        Assert.Equal(StatusCode.FailedPrecondition, cumulative.StatusCode);
        var secondLease = (await second.GetAiAsync("openai")).Lease;
        await second.ReportAsync(secondLease.LeaseId, 2, inputTokens: 300);

        var usage = (await _host.CredentialAsync(id)).GetProperty("usage");
        Assert.Equal(bound - 10 + 300, usage.GetProperty("inputTokens").GetInt64());
        var byWorkspace = usage.GetProperty("byWorkspace").EnumerateArray().ToDictionary(w => w.GetProperty("workspaceId").GetString()!);
        Assert.Equal(bound - 10, byWorkspace[first.WorkspaceId].GetProperty("inputTokens").GetInt64());
        Assert.Equal(7, byWorkspace[first.WorkspaceId].GetProperty("outputTokens").GetInt64());
        Assert.Equal(300, byWorkspace[second.WorkspaceId].GetProperty("inputTokens").GetInt64());
        Assert.Equal(32, byWorkspace[second.WorkspaceId].GetProperty("requests").GetInt64());
        var reports = JsonDocument.Parse(await _host.AuditAsync("credential.usage", id)).RootElement.GetProperty("items");
        Assert.Contains(reports.EnumerateArray(), r => r.GetProperty("workspaceId").GetString() == second.WorkspaceId
            && r.GetProperty("detail").GetString()!.Contains("300 input tokens", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnotherWorkspacesLease_DrawAndReportRefused_ItsUsageUnmoved()
    {
        var id = await _host.CreateAiCredentialAsync(_alice, "openai", "sk-foreign-eeeeeeeeeee", monthlyLimit: 100);
        var victim = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var attacker = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var lease = (await victim.GetAiAsync("openai")).Lease;

        var calls = new Func<Task>[]
        {
            () => attacker.DrawAsync(lease.LeaseId, 64),
            () => attacker.ReportAsync(lease.LeaseId, 0, returned: 32),
            () => attacker.ReportAsync(lease.LeaseId, 32, inputTokens: 1000),
            () => attacker.DrawAsync("lease_unknown", 1),
        };
        foreach (var call in calls)
        {
            Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(call)).StatusCode);
        }

        var usage = (await _host.CredentialAsync(id)).GetProperty("usage");
        Assert.Equal(32, usage.GetProperty("usesThisMonth").GetInt64());
        Assert.Equal(0, usage.GetProperty("inputTokens").GetInt64());
        Assert.DoesNotContain(attacker.WorkspaceId, await _host.AuditAsync("credential.grant", id), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(Leases.AiRequestGranter.MaxBlock + 1)]
    [InlineData(long.MaxValue)]
    public async Task Draw_OutOfBounds_InvalidArgumentAndNothingCharged(long requests)
    {
        var id = await _host.CreateAiCredentialAsync(_alice, "openai", "sk-drawbad-ffffffffffff");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var lease = (await sidecar.GetAiAsync("openai")).Lease;

        var error = await Assert.ThrowsAsync<RpcException>(() => sidecar.DrawAsync(lease.LeaseId, requests));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(32, await UsesThisMonthAsync(id));
    }

    [Fact]
    public async Task Draw_InjectOrRevokedLease_NothingGranted()
    {
        var id = await _host.CreateAiCredentialAsync(_alice, "openai", "sk-ended-gggggggggggg", delivery: "any");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice)).OpenAsync();
        var injected = (await sidecar.GetAiAsync("openai", "inject")).Lease;
        var proxied = (await sidecar.GetAiAsync("openai")).Lease;

        var inject = await Assert.ThrowsAsync<RpcException>(() => sidecar.DrawAsync(injected.LeaseId, 4));
        Assert.Equal(StatusCode.InvalidArgument, inject.StatusCode);
        Assert.Contains("proxy-mode", inject.Status.Detail, StringComparison.Ordinal);
        (await _host.Admin.PatchAsync($"/api/v1/credentials/{id}",
            System.Net.Http.Json.JsonContent.Create(new { secret = "sk-ended-rotated-hhhhhhhhh" }))).EnsureSuccessStatusCode();
        var ended = await sidecar.DrawAsync(proxied.LeaseId, 4);

        Assert.True(ended.LeaseEnded);
        Assert.Equal(0, ended.Granted);
        Assert.Equal(33, await UsesThisMonthAsync(id));
    }

    private async Task<long> UsesThisMonthAsync(string credentialId) =>
        (await _host.CredentialAsync(credentialId)).GetProperty("usage").GetProperty("usesThisMonth").GetInt64();
}

public sealed class SqliteAiRequestGrantTests() : AiRequestGrantTests(new SqliteBackend());

public sealed class PostgresAiRequestGrantTests() : AiRequestGrantTests(new PostgresBackend());
