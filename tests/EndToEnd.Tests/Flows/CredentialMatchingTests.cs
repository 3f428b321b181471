using Xares.DevGitServer;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>Which stored credential a request gets: scheme, host, port, username and whole-segment path prefix.</summary>
public sealed class CredentialMatchingTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    [Fact]
    public async Task Git_TwoUsernamesOnOneHost_UsesTheRequestedUsernamesCredential()
    {
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        var alice = await fixture.AddGitCredentialAsync(userId, server);
        var bob = await fixture.AddGitCredentialAsync(userId, server);
        var repository = await fixture.CreateRepositoryAsync(server);
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId);

        foreach (var identity in new[] { alice, bob })
        {
            var url = server.RepositoryUrl(repository).Replace("http://", $"http://{identity.Username}@", StringComparison.Ordinal);
            await workspace.Git.GitAsync("ls-remote", url).ShouldSucceedAsync();
        }

        AssertGranted(server, alice.Username, repository);
        AssertGranted(server, bob.Username, repository);
    }

    [Fact]
    public async Task Git_PathPrefixesOnOneHost_UsesLongestWholeSegmentPrefix()
    {
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        var folder = fixture.NextName("org");
        var outer = await fixture.AddGitCredentialAsync(userId, server, folder);
        var inner = await fixture.AddGitCredentialAsync(userId, server, $"{folder}/inner");
        var sibling = await fixture.AddGitCredentialAsync(userId, server, folder + "-sib");
        var outerRepository = await fixture.CreateRepositoryAsync(server, folder);
        var innerRepository = await fixture.CreateRepositoryAsync(server, $"{folder}/inner");
        var siblingRepository = await fixture.CreateRepositoryAsync(server, folder + "-sib");
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId);

        foreach (var repository in new[] { outerRepository, innerRepository, siblingRepository })
        {
            await workspace.Git.GitAsync("ls-remote", server.RepositoryUrl(repository)).ShouldSucceedAsync();
        }

        AssertGranted(server, outer.Username, outerRepository);
        AssertGranted(server, inner.Username, innerRepository);
        AssertGranted(server, sibling.Username, siblingRepository);
    }

    [Fact]
    public async Task HelperGet_SchemePortOrSegmentMismatch_ReturnsNothing()
    {
        var server = fixture.GitServer;
        var host = CredentialRequest.HostOf(server.BaseUrl);
        var userId = await fixture.CreateUserAsync();
        var folder = fixture.NextName("org");
        var overHttp = await fixture.AddGitCredentialAsync(userId, server, folder);
        var httpsSecret = TestSecrets.NewToken();
        await fixture.Admin.CreateGitCredentialAsync(userId, $"https://{host}", "tls-user", httpsSecret);
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId, install: false);

        async Task<Dictionary<string, string>> GetAsync(string protocol, string requestHost, string path) =>
            CredentialRequest.Parse((await workspace.Git.CredentialHelperAsync("get", CredentialRequest.Format(protocol, requestHost, path)).ShouldSucceedAsync()).Stdout);

        // Controls: each credential is served where it belongs.
        Assert.Equal(overHttp.Token, (await GetAsync("http", host, $"{folder}/app.git")).GetValueOrDefault("password"));
        Assert.Equal(httpsSecret, (await GetAsync("https", host, "any/app.git")).GetValueOrDefault("password"));

        // Only the https credential covers this path, and it must never go over http.
        Assert.Empty(await GetAsync("http", host, "any/app.git"));
        // `/org` never matches `/org-evil`.
        Assert.Empty(await GetAsync("http", host, $"{folder}-evil/app.git"));
        // Same host, other port.
        Assert.Empty(await GetAsync("http", CredentialRequest.HostOf(fixture.OtherGitServer.BaseUrl), $"{folder}/app.git"));
        // Dot segments match nothing.
        Assert.Empty(await GetAsync("http", host, $"{folder}/../{folder}/app.git"));
    }

    private static void AssertGranted(GitHttpServer server, string username, string repository) =>
        Assert.True(
            server.AuthAttempts.Any(a => a.Succeeded && a.Username == username && a.Path.StartsWith($"/{repository}/", StringComparison.Ordinal)),
            $"No request for {repository} was authenticated as {username}; attempts: {string.Join(", ", server.AuthAttempts)}");
}
