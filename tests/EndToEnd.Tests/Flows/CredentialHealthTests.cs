using System.Text.Json;
using Xares.DevGitServer;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// POST /api/v1/credentials/{id}/test through the published broker against a real smart-HTTP git
/// server that demands the token (the loopback server allow-listed with --outbound-allow, as rule j requires).
/// </summary>
public sealed class CredentialHealthTests
{
    [Fact]
    public async Task TestEndpoint_GenericGitCredential_OkWithTheRightTokenFailedWithAWrongOne_AndListedByHealth()
    {
        using var directory = ScratchDirectory.Create();
        await using var git = await GitHttpServer.StartAsync(new GitHttpServerOptions { RepositoriesRoot = directory.Sub("git") });
        await using var broker = await BrokerProcess.StartAsync(directory, "--outbound-allow", "127.0.0.1");
        using var admin = broker.CreateAdminClient();
        var (aliceToken, bobToken) = (TestSecrets.NewToken(), TestSecrets.NewToken());
        git.AddAccount(new GitAccount("alice", aliceToken, null));
        git.AddAccount(new GitAccount("bob", bobToken, null));
        await git.CreateRepositoryAsync("team/app.git");
        var repository = git.RepositoryUrl("team/app.git");
        var user = await admin.CreateUserAsync("health");
        var good = AdminClient.IdOf(await admin.CreateGitCredentialAsync(user, repository, "alice", aliceToken));
        var wrong = AdminClient.IdOf(await admin.CreateGitCredentialAsync(user, repository, "bob", TestSecrets.NewToken()));

        var ok = await admin.SendAsync(HttpMethod.Post, $"api/v1/credentials/{good}/test");
        var failed = await admin.SendAsync(HttpMethod.Post, $"api/v1/credentials/{wrong}/test");
        var errors = AdminClient.ItemsOf(await admin.SendAsync(HttpMethod.Get, "api/v1/credentials?status=error"));
        var active = AdminClient.ItemsOf(await admin.SendAsync(HttpMethod.Get, "api/v1/credentials?status=active"));

        Assert.True(ok.GetProperty("status").GetString() == "ok", ok.GetRawText());
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.False(string.IsNullOrWhiteSpace(failed.GetProperty("reason").GetString()));
        Assert.Equal([wrong], errors.Select(AdminClient.IdOf));
        Assert.Equal([good], active.Select(AdminClient.IdOf));
        // The git server saw both tokens tried: alice's accepted, bob's (a wrong one) refused.
        Assert.Contains(git.AuthAttempts, a => a is { Username: "alice", Succeeded: true });
        Assert.Contains(git.AuthAttempts, a => a is { Username: "bob", Succeeded: false });
        var tests = await admin.QueryAuditAsync(userId: user, action: "credential.test");
        Assert.Equal(2, tests.Count);
        foreach (var secret in new[] { aliceToken, bobToken })
        {
            Assert.DoesNotContain(secret, JsonSerializer.Serialize(tests), StringComparison.Ordinal);
            Assert.Empty(SecretScanner.FindFilesContaining(secret, [directory.Path]));
        }
    }
}
