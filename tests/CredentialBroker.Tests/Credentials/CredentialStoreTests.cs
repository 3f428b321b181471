using System.Net.Http.Json;
using System.Text;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Credentials;

/// <summary>The store API the lease issuer and the sidecar service build on.</summary>
public sealed class CredentialStoreTests
{
    [Fact]
    public async Task FindGitCandidates_SameOrigin_ReturnsOwnersRowsOldestFirst()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        var org = await host.CreateGitCredentialAsync(alice, "https://github.com/org", "x-access-token", "ghp_org000000000000000000001", "github");
        var whole = await host.CreateGitCredentialAsync(alice, "https://GitHub.com/", "bot", "ghp_whole0000000000000000001", "github");
        await host.CreateGitCredentialAsync(alice, "http://github.com/org", "u", "ghp_http00000000000000000001");
        await host.CreateGitCredentialAsync(alice, "https://github.com:8443/org", "u", "ghp_port00000000000000000001");
        await host.CreateGitCredentialAsync(alice, "https://gitlab.com/org", "u", "glpat_other0000000000000001");
        await host.CreateGitCredentialAsync(bob, "https://github.com/org", "u", "ghp_bob000000000000000000001");
        await host.Admin.PostAsJsonAsync($"/api/v1/users/{alice}/credentials", new { kind = "ai", provider = "openai", secret = "sk-ai0000000000000000001" });

        using var connection = UserEndpointsTests.Open(host);
        var rows = CredentialStore.FindGitCandidates(connection, null, alice, "https", "github.com", 443);

        Assert.Equal([org, whole], rows.Select(r => r.Id).ToArray());
        Assert.Equal("https://github.com/org", rows[0].Destination.CanonicalUrl);
        Assert.Equal(["org"], rows[0].Destination.PathSegments);
        Assert.False(rows[1].Destination.HasPath);
        Assert.Equal(["x-access-token", "bot"], rows.Select(r => r.Username).ToArray());
        Assert.All(rows, r => Assert.Equal(alice, r.UserId));
        Assert.All(rows, r => Assert.Equal("github", r.Provider));
        Assert.All(rows, r => Assert.Equal(1, r.SecretVersion));
        var keyring = host.Get<Keyring>();
        Assert.Equal("ghp_org000000000000000000001", Encoding.UTF8.GetString(keyring.Open(rows[0].Sealed, rows[0].Context)));
        Assert.Equal("ghp_whole0000000000000000001", Encoding.UTF8.GetString(keyring.Open(rows[1].Sealed, rows[1].Context)));
        Assert.Single(CredentialStore.FindGitCandidates(connection, null, alice, "https", "github.com", 8443));
        Assert.Empty(CredentialStore.FindGitCandidates(connection, null, alice, "https", "github.example", 443));
    }

    [Fact]
    public async Task FindGit_ById_ReturnsGitRowsOnly()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var git = await host.CreateGitCredentialAsync(user, "https://git.example.com/team/repo", "me", "tok_findgit0000000001");
        var ai = (await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "ai", provider = "openai", secret = "sk-findgit000000000001" })).JsonAsync(201)).Str("id");
        var expires = DateTimeOffset.UtcNow.AddDays(3);
        await host.Admin.PatchJsonAsync($"/api/v1/credentials/{git}", new { expiresAt = expires });

        using var connection = UserEndpointsTests.Open(host);
        var row = CredentialStore.FindGit(connection, null, git);

        Assert.NotNull(row);
        Assert.Equal("https://git.example.com/team/repo", row.Destination.CanonicalUrl);
        Assert.Equal(expires.ToUnixTimeMilliseconds(), row.ExpiresAt?.ToUnixTimeMilliseconds());
        Assert.Equal("tok_findgit0000000001", Encoding.UTF8.GetString(host.Get<Keyring>().Open(row.Sealed, row.Context)));
        Assert.Null(CredentialStore.FindGit(connection, null, ai));
        Assert.Null(CredentialStore.FindGit(connection, null, "cred_missing"));
    }

    [Fact]
    public async Task ListGitOrigins_DistinctOriginsWithPathFlag()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var other = await host.CreateUserAsync("other");
        await host.CreateGitCredentialAsync(user, "https://github.com", "u", "tok_origins000000000001");
        await host.CreateGitCredentialAsync(user, "https://github.com/org", "u", "tok_origins000000000002");
        await host.CreateGitCredentialAsync(user, "https://git.example.com:8443", "u", "tok_origins000000000003");
        await host.CreateGitCredentialAsync(user, "http://127.0.0.1:3000/team", "u", "tok_origins000000000004");
        await host.CreateGitCredentialAsync(other, "https://gitlab.com/x", "u", "tok_origins000000000005");

        using var connection = UserEndpointsTests.Open(host);
        var origins = CredentialStore.ListGitOrigins(connection, user);

        // Credentials created within one millisecond have no defined order, so compare as a set.
        Assert.Equal(
            new[] { new GitOrigin("http://127.0.0.1:3000", true), new GitOrigin("https://git.example.com:8443", false), new GitOrigin("https://github.com", true) },
            origins.OrderBy(o => o.OriginUrl, StringComparer.Ordinal));
    }

    [Fact]
    public async Task RecordRejection_CurrentVersionCountsStaleVersionDoesNot()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var id = await host.CreateGitCredentialAsync(user, "https://github.com/org", "u", "tok_reject0000000000001");
        var writes = host.Get<WriteQueue>();
        var now = DateTimeOffset.UtcNow;

        var counted = await writes.ExecuteAsync((c, t) => CredentialStore.RecordRejection(c, t, id, 1, now));
        var stale = await writes.ExecuteAsync((c, t) => CredentialStore.RecordRejection(c, t, id, 0, now));
        var unknown = await writes.ExecuteAsync((c, t) => CredentialStore.RecordRejection(c, t, "cred_missing", 1, now));

        Assert.True(counted);
        Assert.False(stale);
        Assert.False(unknown);
        var body = await (await host.Admin.GetAsync($"/api/v1/credentials/{id}")).JsonAsync(200);
        Assert.True(body.GetProperty("flagged").GetBoolean());
        Assert.Equal(1, body.GetProperty("rejectionCount").GetInt64());
        Assert.Equal(now.ToUnixTimeMilliseconds(), body.GetProperty("lastRejectedAt").GetDateTimeOffset().ToUnixTimeMilliseconds());

        await host.Admin.PatchJsonAsync($"/api/v1/credentials/{id}", new { secret = "tok_reject0000000000002" });
        Assert.False(await writes.ExecuteAsync((c, t) => CredentialStore.RecordRejection(c, t, id, 1, now)));
        Assert.True(await writes.ExecuteAsync((c, t) => CredentialStore.RecordRejection(c, t, id, 2, now)));
    }

}
