using System.Globalization;
using System.Net;
using System.Text.Json;
using Xares.Protos.Broker.V1;

namespace Xares.EndToEnd.Tests.Connections;

/// <summary>
/// Refresh under concurrency across replicas: 50 simultaneous fills split over two brokers on one
/// PostgreSQL database, fired when the access token has just expired. Exactly one refresh reaches
/// oidc-provider (which rotates refresh tokens and revokes the whole grant when a used one is
/// presented again, so a second refresh would show as an error and kill every token), and every
/// fill gets the same working token. Also with a token endpoint that answers 500 once, and with a
/// check after the refresh (userinfo) that fails: the committed pair survives and refreshes again.
/// </summary>
public sealed class ReplicaRefreshTests(ReplicaOAuthFixture fixture) : IClassFixture<ReplicaOAuthFixture>
{
    private const int Fills = 50;

    [Fact]
    public async Task FiftyFillsAtExpiry_AcrossTwoReplicas_OneRefresh_EveryFillWorks()
    {
        using var session = await fixture.ConnectedSessionAsync();
        await WaitForExpiryAsync(session.ConnectionId);
        await fixture.Idp.ResetAsync();

        var token = await FillTogetherAsync(session);

        var counters = await fixture.Idp.CountersAsync();
        Assert.Equal(1, counters.GetProperty("refreshSuccess").GetInt32());
        Assert.Equal(0, counters.GetProperty("refreshError").GetInt32());
        Assert.Equal(1, counters.GetProperty("tokenRequests").GetInt32());
        await AssertWorksAsync(token);
    }

    [Fact]
    public async Task FiftyFillsAtExpiry_TokenEndpointAnswers500Once_OneRefreshSucceeds_EveryFillWorks()
    {
        using var session = await fixture.ConnectedSessionAsync();
        await WaitForExpiryAsync(session.ConnectionId);
        await fixture.Idp.ResetAsync();
        await fixture.Idp.FaultAsync(token500: 1);

        var token = await FillTogetherAsync(session);

        var counters = await fixture.Idp.CountersAsync();
        // The 500 and its retry: two requests, one refresh.
        Assert.Equal(2, counters.GetProperty("tokenRequests").GetInt32());
        Assert.Equal(1, counters.GetProperty("refreshSuccess").GetInt32());
        Assert.Equal(0, counters.GetProperty("refreshError").GetInt32());
        await AssertWorksAsync(token);
    }

    [Fact]
    public async Task FiftyFillsAtExpiry_CheckAfterRefreshFails_NewPairSurvivesAndRefreshesAgain()
    {
        using var session = await fixture.ConnectedSessionAsync();
        await WaitForExpiryAsync(session.ConnectionId);
        await fixture.Idp.ResetAsync();
        await fixture.Idp.FaultAsync(userinfo500: 1);

        var token = await FillTogetherAsync(session);

        var counters = await fixture.Idp.CountersAsync();
        Assert.Equal(1, counters.GetProperty("refreshSuccess").GetInt32());
        Assert.Equal(1, counters.GetProperty("userinfo").GetInt32());
        await AssertWorksAsync(token);
        var connection = await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{session.ConnectionId}");
        Assert.Equal("active", connection.GetProperty("status").GetString());
        Assert.Contains("check after refresh", connection.GetProperty("lastError").GetString());

        // The rotated refresh token was kept: the next expiry refreshes with it, without invalid_grant.
        await WaitForExpiryAsync(session.ConnectionId);
        var next = await FillTogetherAsync(session);
        Assert.NotEqual(token, next);
        counters = await fixture.Idp.CountersAsync();
        Assert.Equal(2, counters.GetProperty("refreshSuccess").GetInt32());
        Assert.Equal(0, counters.GetProperty("refreshError").GetInt32());
        await AssertWorksAsync(next);
    }

    private async Task WaitForExpiryAsync(string connectionId)
    {
        var connection = await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}");
        var expires = DateTimeOffset.Parse(connection.GetProperty("accessTokenExpiresAt").GetString()!, CultureInfo.InvariantCulture);
        var wait = expires - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    /// <summary>Fires the fills together, half on each replica; every one must get a lease, all with one token.</summary>
    private async Task<string> FillTogetherAsync(ConnectedSession session)
    {
        var host = new Uri(fixture.GitServer.BaseUrl);
        using var start = new ManualResetEventSlim();
        var replies = await Task.WhenAll(Enumerable.Range(0, Fills).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await session.Clients[i % 2].GetGitCredentialAsync(
                new GitCredentialRequest { Protocol = host.Scheme, Host = host.Authority, Path = "acme/app.git" }, session.Auth).ResponseAsync;
        })).Append(Task.Run(() => { start.Set(); return (GitCredentialReply)null!; })));
        var leases = replies.Where(r => r is not null).ToList();
        Assert.All(leases, r => Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, r.ResultCase));
        Assert.Equal(Fills, leases.Count);
        var tokens = leases.Select(r => r.Lease.Secret).Distinct().ToList();
        return Assert.Single(tokens);
    }

    private async Task AssertWorksAsync(string token)
    {
        Assert.True(await fixture.Idp.IsActiveAsync(token));
        Assert.Equal(HttpStatusCode.OK, await OAuthConnectionTests.InfoRefsAsync(fixture.GitServer.RepositoryUrl("acme/app.git"), token));
    }
}
