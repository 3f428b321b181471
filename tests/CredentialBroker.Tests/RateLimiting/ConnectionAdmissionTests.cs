using System.Globalization;
using System.Net.Http.Json;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Xares.Broker.Hosting;
using Xares.Broker.RateLimiting;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.RateLimiting;

/// <summary>A reconnect storm against a real broker on loopback: the excess is shed with a retry hint, the broker keeps serving.</summary>
public sealed class ConnectionAdmissionTests
{
    private const int Sessions = 10;
    private const int ValidationsPerSession = 20;

    [Fact]
    public async Task ReconnectStorm_ExcessShedWithRetryHint_BrokerStaysHealthyAndFillsLeases()
    {
        // 2 opens/s: the storm's 40 opens at once outrun any refill, however slowly the machine delivers them.
        await using var broker = await SocketBroker.StartAsync(o => o with { ConnectRate = 2, ConnectConcurrency = 1000 });
        var admin = broker.Rest(broker.AdminKey);
        var alice = await broker.CreateUserAsync("alice");
        (await admin.PostAsJsonAsync($"/api/v1/users/{alice}/credentials",
            new { kind = "git", provider = "generic", url = "https://git.example.test", username = "alice", secret = "storm-secret" })).EnsureSuccessStatusCode();
        var client = new SidecarBroker.SidecarBrokerClient(broker.Grpc());
        var sessions = new List<Metadata>();
        for (var i = 0; i < Sessions; i++)
        {
            var grant = await OpenSessionAsSidecarsDoAsync(client, await NewBootstrapTokenAsync(admin, alice));
            sessions.Add(new Metadata { { "authorization", "Bearer " + grant.SessionToken } });
        }
        var newcomers = new List<string>();
        for (var i = 0; i < Sessions; i++)
        {
            newcomers.Add(await NewBootstrapTokenAsync(admin, alice));
        }
        var shedBefore = ShedTotal();
        var open = new List<AsyncServerStreamingCall<RevocationEvent>>();
        try
        {
            // Every session reconnects at once (three streams each, the most a session may hold, and its
            // revalidations) while new workspaces open their sessions.
            var connections = sessions.SelectMany(auth => Enumerable.Range(0, 3).Select(_ => OpenStreamAsync(client, auth, open)))
                .Concat(newcomers.Select(token => OpenSessionAsync(client, token)))
                .ToList();
            var validations = sessions.SelectMany(auth => Enumerable.Range(0, ValidationsPerSession).Select(_ => ValidateAsync(client, auth))).ToList();
            var outcomes = await Task.WhenAll(connections);

            var refused = outcomes.OfType<RpcException>().ToList();
            Assert.NotEmpty(refused);
            Assert.All(refused, ex =>
            {
                Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
                var hint = ex.Trailers.GetValue(ConnectionAdmissionInterceptor.RetryAfterTrailer);
                Assert.NotNull(hint);
                Assert.True(long.Parse(hint, CultureInfo.InvariantCulture) >= ConnectionAdmission.RetryHint.TotalMilliseconds, $"hint {hint} ms");
            });
            // The budget (2 at once plus its refill while the storm lasted) got through; the rest were shed.
            Assert.InRange(outcomes.Length - refused.Count, 1, outcomes.Length - 1);
            // Revalidations are held to the concurrency limit only (1000 here): none was shed.
            Assert.All(await Task.WhenAll(validations), reply => Assert.IsType<ValidateLeasesReply>(reply));
            Assert.True(ShedTotal() - shedBefore >= refused.Count, $"the metric counted {ShedTotal() - shedBefore} sheds of {refused.Count}");

            // The broker stays healthy and keeps filling leases, which are never shed, with its connection budget spent.
            Assert.True((await broker.Rest(null).GetAsync("/healthz")).IsSuccessStatusCode);
            var fill = await client.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.test" }, sessions[0]);
            Assert.Equal("storm-secret", fill.Lease.Secret);
            var metrics = await broker.Rest(null).GetStringAsync("/metrics");
            Assert.Contains("xares_connections_shed_total{call=\"watch_revocations\",limit=\"rate\"}", metrics);

            // Come back after the hint: admitted.
            var latecomer = await NewBootstrapTokenAsync(admin, alice);
            await Task.Delay(ConnectionAdmission.RetryHint);
            Assert.IsType<SessionGrant>(await OpenSessionAsync(client, latecomer));
        }
        finally
        {
            open.ForEach(call => call.Dispose());
        }
    }

    [Fact]
    public async Task OpenStream_FreesItsSetupSlotOnceItIsUp_SoTheNextConnectionIsAdmitted()
    {
        await using var broker = await SocketBroker.StartAsync(o => o with { ConnectConcurrency = 1, ConnectRate = 0 });
        var admin = broker.Rest(broker.AdminKey);
        var alice = await broker.CreateUserAsync("alice");
        var client = new SidecarBroker.SidecarBrokerClient(broker.Grpc());
        var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = await NewBootstrapTokenAsync(admin, alice) });
        var auth = new Metadata { { "authorization", "Bearer " + grant.SessionToken } };
        var open = new List<AsyncServerStreamingCall<RevocationEvent>>();
        try
        {
            // One setup at a time, yet streams that stay open do not hold it.
            Assert.Null(await OpenStreamAsync(client, auth, open));
            Assert.Null(await OpenStreamAsync(client, auth, open));
            Assert.IsType<ValidateLeasesReply>(await ValidateAsync(client, auth));
            Assert.Equal(2, open.Count);
        }
        finally
        {
            open.ForEach(call => call.Dispose());
        }
    }

    [Fact]
    public void TryAdmit_PastTheConcurrencyLimit_ShedUntilASetupEnds()
    {
        using var admission = new ConnectionAdmission(new BrokerOptions { ConnectConcurrency = 2, ConnectRate = 0 }, TimeProvider.System,
            NullLogger<ConnectionAdmission>.Instance);
        var before = BrokerMetrics.ConnectionsShed.WithLabels("open_session", "concurrency").Value;

        var first = admission.TryAdmit("open_session", out _);
        var second = admission.TryAdmit("open_session", out _);
        var third = admission.TryAdmit("open_session", out var retryAfter);

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(third);
        Assert.Equal(ConnectionAdmission.RetryHint, retryAfter);
        Assert.Equal(1, BrokerMetrics.ConnectionsShed.WithLabels("open_session", "concurrency").Value - before);
        first!.Dispose();
        first.Dispose(); // a second dispose frees nothing more
        using var fourth = admission.TryAdmit("open_session", out _);
        Assert.NotNull(fourth);
        Assert.Null(admission.TryAdmit("open_session", out _));
        second!.Dispose();
    }

    [Fact]
    public void TryAdmit_RateSpent_ShedsOpensButNotRevalidations()
    {
        using var admission = new ConnectionAdmission(new BrokerOptions { ConnectConcurrency = 100, ConnectRate = 1 }, TimeProvider.System,
            NullLogger<ConnectionAdmission>.Instance);

        using var stream = admission.TryAdmit("watch_revocations", out _);
        var next = admission.TryAdmit("watch_revocations", out var retryAfter);
        var session = admission.TryAdmit("open_session", out _);
        using var validation = admission.TryAdmit("validate_leases", out _);

        Assert.NotNull(stream);
        Assert.Null(next);
        Assert.Null(session);
        Assert.True(retryAfter >= ConnectionAdmission.RetryHint);
        Assert.NotNull(validation);
    }

    [Theory]
    [InlineData("OpenSession", "open_session")]
    [InlineData("WatchRevocations", "watch_revocations")]
    [InlineData("ValidateLeases", "validate_leases")]
    [InlineData("GetGitCredential", null)]
    [InlineData("GetAiCredential", null)]
    [InlineData("RefreshSession", null)]
    public void CallLabel_OnlyConnectionSetupsAreGoverned(string method, string? label) =>
        Assert.Equal(label, ConnectionAdmission.CallLabel($"/xares.broker.v1.SidecarBroker/{method}"));

    private static double ShedTotal() =>
        new[] { "open_session", "watch_revocations", "validate_leases" }
            .SelectMany(call => new[] { "rate", "concurrency" }.Select(limit => BrokerMetrics.ConnectionsShed.WithLabels(call, limit).Value))
            .Sum();

    /// <summary>Opens a stream as the sidecar does (waits for its headers); null when it is up, else the refusal.</summary>
    private static async Task<object?> OpenStreamAsync(SidecarBroker.SidecarBrokerClient client, Metadata auth, List<AsyncServerStreamingCall<RevocationEvent>> open)
    {
        var call = client.WatchRevocations(new WatchRevocationsRequest(), auth);
        await call.ResponseHeadersAsync;
        try
        {
            var refusal = new RpcException(call.GetStatus(), call.GetTrailers());
            call.Dispose();
            return refusal;
        }
        catch (InvalidOperationException)
        {
            lock (open)
            {
                open.Add(call);
            }
            return null;
        }
    }

    private static async Task<string> NewBootstrapTokenAsync(HttpClient admin, string userId)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/workspaces", new { userId, name = "ws" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Workspace>())!.BootstrapToken;
    }

    /// <summary>Opens a session, waiting out each shed for its retry hint, as a sidecar does.</summary>
    private static async Task<SessionGrant> OpenSessionAsSidecarsDoAsync(SidecarBroker.SidecarBrokerClient client, string bootstrapToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            switch (await OpenSessionAsync(client, bootstrapToken))
            {
                case SessionGrant grant:
                    return grant;
                case RpcException { StatusCode: StatusCode.Unavailable } shed when attempt < 20:
                    await Task.Delay(TimeSpan.FromMilliseconds(long.Parse(shed.Trailers.GetValue(ConnectionAdmissionInterceptor.RetryAfterTrailer)!, CultureInfo.InvariantCulture)));
                    break;
                case var other:
                    throw new InvalidOperationException($"Opening a session failed: {other}");
            }
        }
    }

    private static async Task<object?> OpenSessionAsync(SidecarBroker.SidecarBrokerClient client, string bootstrapToken)
    {
        try
        {
            return await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = bootstrapToken });
        }
        catch (RpcException ex)
        {
            return ex;
        }
    }

    private static async Task<object?> ValidateAsync(SidecarBroker.SidecarBrokerClient client, Metadata auth)
    {
        try
        {
            return await client.ValidateLeasesAsync(new ValidateLeasesRequest(), auth);
        }
        catch (RpcException ex)
        {
            return ex;
        }
    }

    private sealed record Workspace(string Id, string BootstrapToken);
}
