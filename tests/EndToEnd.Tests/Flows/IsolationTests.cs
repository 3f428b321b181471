using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>A workspace obtains only its owner's credentials (invariant 4).</summary>
public sealed class IsolationTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    [Fact]
    public async Task Git_OtherUsersCredentialOnSameHost_IsNeverServed()
    {
        var started = DateTime.UtcNow;
        var server = fixture.GitServer;
        var alice = await fixture.CreateUserAsync();
        var bob = await fixture.CreateUserAsync();
        var aliceFolder = fixture.NextName("orga");
        var bobFolder = fixture.NextName("orgb");
        await fixture.AddGitCredentialAsync(alice, server, aliceFolder);
        var bobs = await fixture.AddGitCredentialAsync(bob, server, bobFolder);
        var aliceRepository = await fixture.CreateRepositoryAsync(server, aliceFolder);
        var bobRepository = await fixture.CreateRepositoryAsync(server, bobFolder);
        await using var workspace = await XaresWorkspace.StartAsync(fixture, alice);

        await workspace.Git.GitAsync("ls-remote", server.RepositoryUrl(aliceRepository)).ShouldSucceedAsync();
        await workspace.Git.GitAsync("ls-remote", server.RepositoryUrl(bobRepository)).ShouldFailAsync();
        var answer = await workspace.Git.CredentialHelperAsync(
            "get", CredentialRequest.Format("http", CredentialRequest.HostOf(server.BaseUrl), bobRepository, bobs.Username)).ShouldSucceedAsync();

        Assert.Empty(CredentialRequest.Parse(answer.Stdout));
        Assert.DoesNotContain(server.AuthAttempts, a => a.Username == bobs.Username);
        fixture.AssertSecretOnNoDisk(bobs.Token, started);
    }
}
