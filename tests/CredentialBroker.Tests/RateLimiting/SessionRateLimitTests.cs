using Grpc.Core;
using Xares.Broker.Hosting;
using Xares.Broker.RateLimiting;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.RateLimiting;

public sealed class SessionRateLimitTests
{
    [Fact]
    public async Task HammeringSession_GetsResourceExhausted_WhileAnotherSessionKeepsWorking()
    {
        await using var host = await BrokerTestHost.StartAsync(o => o with { SessionRate = 1, SessionBurst = 5 });
        var alice = await host.CreateUserAsync("alice");
        await host.CreateGitCredentialAsync(alice, "https://git.example.test", "alice", "secret-for-rate-tests");
        var noisy = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        var quiet = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        var limitedBefore = BrokerMetrics.RateLimited.WithLabels("grpc").Value;

        var outcomes = new List<StatusCode>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            try
            {
                await noisy.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), noisy.Auth);
                outcomes.Add(StatusCode.OK);
            }
            catch (RpcException ex)
            {
                outcomes.Add(ex.StatusCode);
                Assert.Contains("too often", ex.Status.Detail, StringComparison.Ordinal);
            }
        }

        // The burst (5) passes, plus one refill per elapsed second; everything else is refused before any work.
        Assert.InRange(outcomes.Count(s => s == StatusCode.OK), 5, 6 + (int)clock.Elapsed.TotalSeconds);
        Assert.All(outcomes.Where(s => s != StatusCode.OK), s => Assert.Equal(StatusCode.ResourceExhausted, s));
        Assert.True(BrokerMetrics.RateLimited.WithLabels("grpc").Value - limitedBefore >= outcomes.Count(s => s != StatusCode.OK));
        Assert.Contains(StatusCode.ResourceExhausted, outcomes);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("secret-for-rate-tests", (await quiet.GetAsync("https", "git.example.test")).Lease.Secret);
        }
    }

    [Fact]
    public async Task RefreshedToken_KeepsItsSessionsBucket()
    {
        await using var host = await BrokerTestHost.StartAsync(o => o with { SessionRate = 1, SessionBurst = 3 });
        var alice = await host.CreateUserAsync("alice");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();

        await sidecar.RefreshAsync(); // spends one
        await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth);
        await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth);
            }
        });

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task EmptyBucket_RefillsAtTheConfiguredRate()
    {
        await using var host = await BrokerTestHost.StartAsync(o => o with { SessionRate = 2, SessionBurst = 1 });
        var alice = await host.CreateUserAsync("alice");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth);
        // One token every 500 ms: wide enough that a busy machine cannot refill the bucket between
        // these two calls (at 20/s, 50 ms between them sometimes did).
        await Assert.ThrowsAsync<RpcException>(async () => await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth));

        // The partitioned limiter's clock ticks every 100 ms.
        await Task.Delay(1000);

        await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth);
    }

    [Fact]
    public async Task MadeUpSessionTokens_EachNew_ShareTheAddressBucket()
    {
        await using var host = await BrokerTestHost.StartAsync(o => o with { SessionRate = 5, SessionBurst = 10 });
        var alice = await host.CreateUserAsync("alice");
        var genuine = await (await SidecarClient.CreateWorkspaceAsync(host, alice)).OpenAsync();
        var channel = genuine.Grpc;

        var refused = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 60; i++)
        {
            var forged = new Metadata { { "authorization", "Bearer " + RandomSessionToken() } };
            var error = await Assert.ThrowsAsync<RpcException>(async () => await channel.ListGitTargetsAsync(new ListGitTargetsRequest(), forged));
            refused += error.StatusCode == StatusCode.ResourceExhausted ? 1 : 0;
            Assert.Contains(error.StatusCode, new[] { StatusCode.ResourceExhausted, StatusCode.Unauthenticated });
        }

        // The address's burst (10) plus its refill while the loop ran get through to the lookup; the rest are refused before it.
        Assert.InRange(refused, 60 - 10 - 1 - (int)Math.Ceiling(clock.Elapsed.TotalSeconds * 5), 60);
        Assert.True(refused > 0, "no made-up token was refused");
        // The genuine session has its own bucket and is not slowed by the forgeries from its address.
        await genuine.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), genuine.Auth);
    }

    [Fact]
    public void Partition_OnlyVerifiedTokensHaveTheirOwnBucket_EverythingElseIsTheAddress()
    {
        using var limiter = new SessionCallLimiter(new BrokerOptions());
        var granted = "xst_" + new string('T', 43);
        var verified = "xst_" + new string('V', 43);
        var expired = "xst_" + new string('E', 43);

        Assert.Equal("peer 10.0.0.1", limiter.Partition(null, "10.0.0.1"));
        Assert.Equal("peer 10.0.0.1", limiter.Partition("xar_notasessiontokenatallnotasessiontokenatall", "10.0.0.1"));
        Assert.Equal("peer 10.0.0.1", limiter.Partition(granted, "10.0.0.1"));
        limiter.Learn(granted, "ses_1", DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal("session ses_1", limiter.Partition(granted, "10.0.0.2"));
        limiter.LearnVerified(verified, null, DateTimeOffset.UtcNow);
        var byHash = limiter.Partition(verified, "10.0.0.1");
        Assert.StartsWith("token ", byHash, StringComparison.Ordinal);
        Assert.DoesNotContain(verified, byHash, StringComparison.Ordinal);
        limiter.LearnVerified(granted, null, DateTimeOffset.UtcNow); // a known token keeps its session's bucket
        Assert.Equal("session ses_1", limiter.Partition(granted, "10.0.0.2"));
        limiter.Learn(expired, "ses_2", DateTimeOffset.UtcNow.AddSeconds(-1));
        Assert.Equal("peer 10.0.0.1", limiter.Partition(expired, "10.0.0.1"));
    }

    [Fact]
    public void Acquire_RateZero_NeverRefuses()
    {
        using var limiter = new SessionCallLimiter(new BrokerOptions { SessionRate = 0, SessionBurst = 1 });

        for (var i = 0; i < 1000; i++)
        {
            using var lease = limiter.Acquire("xst_" + new string('T', 43), "10.0.0.1");
            Assert.True(lease.IsAcquired);
        }
        Assert.Equal("off", limiter.Describe);
    }

    [Fact]
    public void Acquire_BurstSpent_RefusedWithRetryAfter()
    {
        using var limiter = new SessionCallLimiter(new BrokerOptions { SessionRate = 10, SessionBurst = 2 });
        var token = "xst_" + new string('T', 43);
        limiter.Learn(token, "ses_1", DateTimeOffset.UtcNow.AddMinutes(5));
        limiter.Learn("xst_" + new string('U', 43), "ses_2", DateTimeOffset.UtcNow.AddMinutes(5));

        using var first = limiter.Acquire(token, "a");
        using var second = limiter.Acquire(token, "a");
        using var third = limiter.Acquire(token, "a");
        using var otherSession = limiter.Acquire("xst_" + new string('U', 43), "a");

        Assert.True(first.IsAcquired && second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.True(third.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero);
        Assert.True(otherSession.IsAcquired);
    }

    private static string RandomSessionToken() =>
        "xst_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
