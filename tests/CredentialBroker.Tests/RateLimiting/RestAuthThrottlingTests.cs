using System.Net;
using System.Text.Json;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.RateLimiting;

/// <summary>Failed-authentication limits through a real broker on real sockets: each client is its own TCP source address.</summary>
public sealed class RestAuthThrottlingTests
{
    private const string Forged = "xar_AAAAforgedforgedforgedforgedforgedforgedforg";
    private const string ClientA = "127.0.0.1";
    private const string ClientB = "127.0.0.2";

    [Fact]
    public async Task FailedAuth_PastKeyLimit_429WithRetryAfterAndOtherClientsUnaffected()
    {
        await using var broker = await SocketBroker.StartAsync(o => o with { AuthFailureLimit = 3, AuthFailureAddressLimit = 100 });
        using var attacker = broker.Rest(Forged, from: ClientA);
        var limitedBefore = Xares.Broker.Hosting.BrokerMetrics.RateLimited.WithLabels("rest").Value;

        for (var i = 0; i < 3; i++)
        {
            await (await attacker.GetAsync("/api/v1/users")).ProblemAsync(401, "unauthorized");
        }
        var refused = await attacker.GetAsync("/api/v1/users");

        var problem = await refused.ProblemAsync(429, "too-many-failures");
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {refused.Headers.RetryAfter}");
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("requestId").GetString()));
        Assert.True(Xares.Broker.Hosting.BrokerMetrics.RateLimited.WithLabels("rest").Value > limitedBefore);
        // Another key from the same client is a different partition (the address budget is not spent).
        using var adminFromA = broker.Rest(broker.AdminKey, from: ClientA);
        Assert.Equal(HttpStatusCode.OK, (await adminFromA.GetAsync("/api/v1/users")).StatusCode);
        // Another client, even with the same wrong key, is judged on its own.
        using var adminFromB = broker.Rest(broker.AdminKey, from: ClientB);
        Assert.Equal(HttpStatusCode.OK, (await adminFromB.GetAsync("/api/v1/users")).StatusCode);
        using var forgedFromB = broker.Rest(Forged, from: ClientB);
        await (await forgedFromB.GetAsync("/api/v1/users")).ProblemAsync(401, "unauthorized");
    }

    [Fact]
    public async Task FailedAuth_PastAddressLimit_EvenACorrectKeyFromThatClientWaits()
    {
        await using var broker = await SocketBroker.StartAsync(o => o with { AuthFailureLimit = 100, AuthFailureAddressLimit = 4 });
        // A different key each time, as a guesser would: only the per-address budget catches it.
        for (var i = 0; i < 4; i++)
        {
            using var guesser = broker.Rest($"xar_{i:D4}" + new string('g', 39), from: ClientA);
            await (await guesser.GetAsync("/api/v1/users")).ProblemAsync(401);
        }

        using var adminFromA = broker.Rest(broker.AdminKey, from: ClientA);
        await (await adminFromA.GetAsync("/api/v1/users")).ProblemAsync(429, "too-many-failures");
        using var adminFromB = broker.Rest(broker.AdminKey, from: ClientB);
        Assert.Equal(HttpStatusCode.OK, (await adminFromB.GetAsync("/api/v1/users")).StatusCode);
        // Requests without a key are not attempts at one: public endpoints still answer.
        using var anonymousFromA = broker.Rest(null, from: ClientA);
        Assert.Equal(HttpStatusCode.OK, (await anonymousFromA.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task NoTrustedProxy_ForwardedForIgnored_ThePeerIsTheClient()
    {
        await using var broker = await SocketBroker.StartAsync(o => o with { AuthFailureLimit = 2 });
        using var attacker = broker.Rest(Forged, from: ClientA);
        for (var i = 0; i < 2; i++)
        {
            await (await attacker.SendAsync(Forwarded($"203.0.113.{10 + i}"))).ProblemAsync(401);
        }

        // A new forwarded address does not buy a new budget.
        await (await attacker.SendAsync(Forwarded("203.0.113.99"))).ProblemAsync(429);
        var audit = await AuthFailuresAsync(broker);
        Assert.Equal(ClientA, audit[0].GetProperty("remoteAddress").GetString());
    }

    [Fact]
    public async Task TrustedProxy_ForwardedFor_EachForwardedClientHasItsOwnBudget()
    {
        await using var broker = await SocketBroker.StartAsync(o => o with { AuthFailureLimit = 2, TrustedProxies = [ClientA, "10.0.0.0/8"] });
        using var proxy = broker.Rest(Forged, from: ClientA);
        for (var i = 0; i < 2; i++)
        {
            await (await proxy.SendAsync(Forwarded("203.0.113.5"))).ProblemAsync(401);
        }

        await (await proxy.SendAsync(Forwarded("203.0.113.5"))).ProblemAsync(429);
        // The load balancer's own address is not the partition: another client behind it still gets in.
        await (await proxy.SendAsync(Forwarded("203.0.113.6"))).ProblemAsync(401);
        // The rightmost untrusted hop is the client: a spoofed leftmost entry changes nothing,
        // and an inner trusted proxy (10.x) is skipped.
        await (await proxy.SendAsync(Forwarded("198.51.100.1, 203.0.113.5"))).ProblemAsync(429);
        await (await proxy.SendAsync(Forwarded("203.0.113.5, 10.1.2.3"))).ProblemAsync(429);
        var addresses = (await AuthFailuresAsync(broker)).Select(r => r.GetProperty("remoteAddress").GetString()).ToList();
        Assert.Contains("203.0.113.5", addresses);
        Assert.Contains("203.0.113.6", addresses);
        Assert.DoesNotContain(ClientA, addresses);
    }

    [Fact]
    public async Task TrustedProxy_RequestFromAnUntrustedPeer_ItsForwardedForIsIgnored()
    {
        await using var broker = await SocketBroker.StartAsync(o => o with { AuthFailureLimit = 1, TrustedProxies = [ClientA] });
        using var direct = broker.Rest(Forged, from: ClientB);
        await (await direct.SendAsync(Forwarded("203.0.113.7"))).ProblemAsync(401);

        await (await direct.SendAsync(Forwarded("203.0.113.8"))).ProblemAsync(429);
        Assert.Equal(ClientB, (await AuthFailuresAsync(broker))[0].GetProperty("remoteAddress").GetString());
    }

    [Fact]
    public async Task FailedAuth_IPv6ClientsInOneSlash64_ShareOneBudget()
    {
        await using var broker = await SocketBroker.StartAsync(o => o with { AuthFailureLimit = 2, TrustedProxies = [ClientA] });
        using var proxy = broker.Rest(Forged, from: ClientA);
        await (await proxy.SendAsync(Forwarded("2001:db8:1:2::a"))).ProblemAsync(401);
        await (await proxy.SendAsync(Forwarded("2001:db8:1:2:ffff:ffff:ffff:1"))).ProblemAsync(401);

        // Another address of the same /64 buys no new budget; the neighbouring /64 has its own.
        await (await proxy.SendAsync(Forwarded("2001:db8:1:2::b"))).ProblemAsync(429);
        await (await proxy.SendAsync(Forwarded("2001:db8:1:3::a"))).ProblemAsync(401);
        // The audit still names the exact address.
        var addresses = (await AuthFailuresAsync(broker)).Select(r => r.GetProperty("remoteAddress").GetString()).ToList();
        Assert.Contains("2001:db8:1:2::a", addresses);
    }

    private static HttpRequestMessage Forwarded(string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/users");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return request;
    }

    private static async Task<List<JsonElement>> AuthFailuresAsync(SocketBroker broker)
    {
        using var admin = broker.Rest(broker.AdminKey, from: ClientB);
        var body = await (await admin.GetAsync("/api/v1/audit?action=auth.failure")).JsonAsync(200);
        return [.. body.GetProperty("items").EnumerateArray()];
    }
}
