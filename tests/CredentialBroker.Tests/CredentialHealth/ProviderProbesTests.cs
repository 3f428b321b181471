using Xares.Broker.CredentialHealth;

namespace Xares.Broker.Tests.CredentialHealth;

/// <summary>The documented mapping from a credential's destination to the endpoint that tests it.</summary>
public sealed class ProviderProbesTests
{
    [Theory]
    [InlineData("git", "github", "https://github.com/org/repo", "https://api.github.com/user")]
    [InlineData("git", "github", "https://ghe.example.com/org", "https://ghe.example.com/api/v3/user")]
    [InlineData("git", "github", "https://ghe.example.com:8443", "https://ghe.example.com:8443/api/v3/user")]
    [InlineData("git", "gitlab", "https://gitlab.com/group/sub/project", "https://gitlab.com/api/v4/user")]
    [InlineData("git", "gitea", "http://gitea.internal:3000/org", "http://gitea.internal:3000/api/v1/user")]
    [InlineData("git", "forgejo", "https://codeberg.org/org/repo", "https://codeberg.org/api/v1/user")]
    [InlineData("git", "bitbucket", "https://bitbucket.org/team/repo", "https://api.bitbucket.org/2.0/user")]
    [InlineData("git", "bitbucket", "https://bitbucket.corp.example/scm/team/repo.git", "https://bitbucket.corp.example/scm/team/repo.git/info/refs?service=git-upload-pack")]
    [InlineData("git", "generic", "https://git.example.com/team/repo", "https://git.example.com/team/repo/info/refs?service=git-upload-pack")]
    [InlineData("ai", "openai", null, "https://api.openai.com/v1/models")]
    [InlineData("ai", "openai", "https://llm.example.com/v1", "https://llm.example.com/v1/models")]
    [InlineData("ai", "groq", null, "https://api.groq.com/openai/v1/models")]
    [InlineData("ai", "openrouter", null, "https://openrouter.ai/api/v1/key")]
    [InlineData("ai", "anthropic", null, "https://api.anthropic.com/v1/models")]
    [InlineData("ai", "anthropic", "https://proxy.example.com/anthropic", "https://proxy.example.com/anthropic/v1/models")]
    [InlineData("ai", "google", null, "https://generativelanguage.googleapis.com/v1beta/models")]
    public void For_Destination_UsesTheProvidersDocumentedEndpoint(string kind, string provider, string? url, string expected)
    {
        var probe = ProviderProbes.For(new ProbeTarget(kind, provider, url, "user"));

        Assert.Equal(expected, probe!.Endpoint.AbsoluteUri);
    }

    [Fact]
    public void For_UnparseableStoredUrl_Null() =>
        Assert.Null(ProviderProbes.For(new ProbeTarget("git", "github", "not a url", "user")));
}
