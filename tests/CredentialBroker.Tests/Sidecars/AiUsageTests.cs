using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

public sealed class AiUsageTests : BrokerWithAliceTests
{
    [Fact]
    public async Task ProxyLease_FirstGrantReachesLimit_RevokesInjectLeasesOnlyAuditsOnceAndRefuses()
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-limited-aaaaaaaaaa", monthlyLimit: 3, delivery: "any");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var injected = (await sidecar.GetAiAsync("openai", "inject")).Lease;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var stream = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = sidecar.Grant!.RevocationSequence }, sidecar.Auth,
            cancellationToken: cts.Token);

        // The proxy lease gets what the limit leaves (2 of 3), charged now: that reaches the limit.
        var proxied = (await sidecar.GetAiAsync("openai")).Lease;
        Assert.Equal(2, proxied.GrantedRequests);
        Assert.True((await sidecar.ReportAsync(proxied.LeaseId, 2, inputTokens: 100, outputTokens: 40)).LimitReached);

        // The inject lease's key is outside any proxy: revoked by itself; the proxy lease keeps its grant.
        Assert.True(await stream.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(RevocationEvent.Types.Kind.Lease, stream.ResponseStream.Current.Kind);
        Assert.Equal(injected.LeaseId, stream.ResponseStream.Current.TargetId);
        var validation = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { injected.LeaseId, proxied.LeaseId } }, sidecar.Auth);
        Assert.Equal([proxied.LeaseId], validation.ValidLeaseIds);

        var refused = await sidecar.GetAiAsync("openai", "inject");
        Assert.Equal(AiCredentialReply.ResultOneofCase.LimitReached, refused.ResultCase);
        Assert.Equal(id, refused.LimitReached.CredentialId);
        Assert.Equal(3, refused.LimitReached.MonthlyLimit);
        Assert.Equal(3, refused.LimitReached.UsesThisMonth);
        var draw = await sidecar.DrawAsync(proxied.LeaseId, 8);
        Assert.Equal(0, draw.Granted);
        Assert.True(draw.LimitReached);
        Assert.Equal(3, draw.MonthlyLimit);
        Assert.Equal(1, AiTestData.AuditCount(Host, "credential.limit_reached", id));
        Assert.Contains("denied", await Host.AuditAsync("lease.issue", id), StringComparison.Ordinal);

        var listed = await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth);
        Assert.True(listed.Credentials.Single().LimitReached);
        var credential = await Host.CredentialAsync(id);
        var usage = credential.GetProperty("usage");
        Assert.Equal(3, usage.GetProperty("totalUses").GetInt64());
        Assert.Equal(3, usage.GetProperty("usesThisMonth").GetInt64());
        Assert.Equal(100, usage.GetProperty("inputTokens").GetInt64());
        Assert.Equal(40, usage.GetProperty("outputTokens").GetInt64());
        Assert.True(credential.GetProperty("limitReached").GetBoolean());
        var everything = await Host.Admin.GetStringAsync("/api/v1/audit?limit=500") + credential.GetRawText();
        Assert.Contains("credential.usage", everything, StringComparison.Ordinal);
        Assert.Contains("credential.grant", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-limited-aaaaaaaaaa", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAiCredential_InjectReachesLimit_NextRefusedAndLimitAudited()
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "anthropic", "sk-ant-bbbbbbbbbbbbb", monthlyLimit: 2, delivery: "any");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAiAsync("anthropic", "inject")).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAiAsync("anthropic", "inject")).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.LimitReached, (await sidecar.GetAiAsync("anthropic", "inject")).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.LimitReached, (await sidecar.GetAiAsync("anthropic", "proxy")).ResultCase);
        Assert.Equal(1, AiTestData.AuditCount(Host, "credential.limit_reached", id));
    }

    [Fact]
    public async Task PatchMonthlyLimit_RaisedAfterReached_IssuesAgain_LoweredBelowUse_Revokes()
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-limit-cccccccccccc", monthlyLimit: 1);
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        Assert.Equal(1, (await sidecar.GetAiAsync("openai")).Lease.GrantedRequests);
        Assert.Equal(AiCredentialReply.ResultOneofCase.LimitReached, (await sidecar.GetAiAsync("openai")).ResultCase);

        (await Host.Admin.PatchAsync($"/api/v1/credentials/{id}", System.Net.Http.Json.JsonContent.Create(new { monthlyLimit = (long?)null }))).EnsureSuccessStatusCode();
        var lease = (await sidecar.GetAiAsync("openai")).Lease;
        Assert.Equal(32, lease.GrantedRequests);
        Assert.False((await sidecar.ReportAsync(lease.LeaseId, 4)).LimitReached);

        (await Host.Admin.PatchAsync($"/api/v1/credentials/{id}", System.Net.Http.Json.JsonContent.Create(new { monthlyLimit = 3 }))).EnsureSuccessStatusCode();
        var validation = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { lease.LeaseId } }, sidecar.Auth);
        Assert.Empty(validation.ValidLeaseIds);
        Assert.Equal(2, AiTestData.AuditCount(Host, "credential.limit_reached", id));
    }

    [Theory]
    [InlineData(-1, 0, 0)]
    [InlineData(0, -5, 0)]
    [InlineData(0, 0, -5)]
    [InlineData(2_000_000, 0, 0)]
    [InlineData(1, 2_000_000_000, 0)]
    public async Task ReportAiUsage_OutOfBounds_InvalidArgumentAndNothingChanged(long requests, long input, long output)
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-bounds-dddddddddd");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var lease = (await sidecar.GetAiAsync("openai")).Lease;

        var error = await Assert.ThrowsAsync<RpcException>(() => sidecar.ReportAsync(lease.LeaseId, requests, input, output));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        await AssertUnusedAsync(id, lease.GrantedRequests);
    }

    [Fact]
    public async Task ReportAiUsage_ForeignUnknownOrGitLease_RefusedAndNothingChanged()
    {
        var bob = await Host.CreateUserAsync("bob");
        var bobsCredential = await Host.CreateAiCredentialAsync(bob, "openai", "sk-bob-eeeeeeeeeeee");
        var bobs = await (await SidecarClient.CreateWorkspaceAsync(Host, bob)).OpenAsync();
        var bobsLease = (await bobs.GetAiAsync("openai")).Lease;
        var gitCredential = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "git-secret-ffffffff");
        var alices = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var gitLease = (await alices.GetAsync("https", "git.example.test")).Lease;

        var foreign = await Assert.ThrowsAsync<RpcException>(() => alices.ReportAsync(bobsLease.LeaseId, 5));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => alices.ReportAsync("lease_unknown", 5));
        var git = await Assert.ThrowsAsync<RpcException>(() => alices.ReportAsync(gitLease.LeaseId, 5));

        Assert.Equal(StatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, git.StatusCode);
        await AssertUnusedAsync(bobsCredential, bobsLease.GrantedRequests);
        Assert.Equal(1, (await Host.CredentialAsync(gitCredential)).GetProperty("usage").GetProperty("totalUses").GetInt64());
    }

    [Fact]
    public async Task GitLease_CountsAUse_AndHonoursMonthlyLimit()
    {
        var response = await Host.Admin.PostAsync($"/api/v1/users/{Alice}/credentials", System.Net.Http.Json.JsonContent.Create(
            new { kind = "git", provider = "generic", url = "https://git.example.test", username = "alice", secret = "git-secret-gggggggg", monthlyLimit = 2 }));
        var id = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAsync("https", "git.example.test")).ResultCase);
        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAsync("https", "git.example.test")).ResultCase);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", "git.example.test")).ResultCase);

        var credential = await Host.CredentialAsync(id);
        Assert.Equal(2, credential.GetProperty("usage").GetProperty("totalUses").GetInt64());
        Assert.True(credential.GetProperty("limitReached").GetBoolean());
        Assert.Contains("monthly limit reached", await Host.AuditAsync("lease.issue", id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MonthlyLimit_MonthTurns_CountStartsOverOnItsOwn()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T22:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var host = await BrokerTestHost.StartAsync(services: s => s.AddSingleton<TimeProvider>(time));
        var alice = await host.CreateUserAsync("alice");
        var id = await host.CreateAiCredentialAsync(alice, "openai", "sk-monthly-hhhhhhhhhh", monthlyLimit: 1, delivery: "any");
        var november = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, (await november.GetAiAsync("openai", "inject")).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.LimitReached, (await november.GetAiAsync("openai", "inject")).ResultCase);

        time.Advance(TimeSpan.FromHours(3)); // 2026-12-01T01:00Z
        var before = await host.CredentialAsync(id);
        Assert.Equal(0, before.GetProperty("usage").GetProperty("usesThisMonth").GetInt64());
        Assert.Equal(1, before.GetProperty("usage").GetProperty("totalUses").GetInt64());
        Assert.False(before.GetProperty("limitReached").GetBoolean());

        var december = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, (await december.GetAiAsync("openai", "inject")).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.LimitReached, (await december.GetAiAsync("openai", "inject")).ResultCase);
        var after = (await host.CredentialAsync(id)).GetProperty("usage");
        Assert.Equal(1, after.GetProperty("usesThisMonth").GetInt64());
        Assert.Equal(2, after.GetProperty("totalUses").GetInt64());
        Assert.Equal("2026-12", AiTestData.Scalar(host, "SELECT usage_month FROM credentials WHERE id = $c", ("$c", id)));
    }

    /// <summary>Nothing but the lease's first grant was counted: no report, no tokens.</summary>
    private async Task AssertUnusedAsync(string credentialId, long granted)
    {
        var usage = (await Host.CredentialAsync(credentialId)).GetProperty("usage");
        Assert.Equal(granted, usage.GetProperty("totalUses").GetInt64());
        Assert.Equal(0, usage.GetProperty("inputTokens").GetInt64());
        Assert.Equal(0, AiTestData.AuditCount(Host, "credential.usage", credentialId));
    }
}
