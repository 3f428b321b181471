using Xares.Sidecar.Ai.Proxy;

namespace Xares.Sidecar.Tests.Ai.Proxy;

public sealed class ProxyPathTests
{
    [Theory]
    [InlineData("https://api.openai.com/v1", "/v1", "/v1/chat/completions", "", "https://api.openai.com/v1/chat/completions")]
    [InlineData("https://gw.example.com/openai/v1/", "/v1", "/v1/models", "limit=5", "https://gw.example.com/openai/v1/models?limit=5")]
    [InlineData("https://generativelanguage.googleapis.com", "", "/v1beta/models/gemini:generateContent", "key=abc&alt=sse", "https://generativelanguage.googleapis.com/v1beta/models/gemini:generateContent?alt=sse")]
    [InlineData("https://generativelanguage.googleapis.com", "", "/v1beta/models", "KEY=abc", "https://generativelanguage.googleapis.com/v1beta/models")]
    [InlineData("https://api.openai.com/v1", "/v1", "/v2/other", "", null)]
    [InlineData("https://api.openai.com/v1", "/v1", "/v1evil", "", null)]
    public void Build_FromCredentialBaseUrlOnly(string baseUrl, string prefix, string path, string query, string? expected)
    {
        Assert.Equal(expected, UpstreamUrl.Build(baseUrl, prefix, path, query)?.AbsoluteUri);
    }

    [Theory]
    [InlineData("/v1/../admin")]
    [InlineData("/v1/%2e%2e/admin")]
    [InlineData("/v1/./models")]
    [InlineData("/v1/a%2fb")]
    [InlineData("/v1/a%5Cb")]
    [InlineData("/v1/a\\b")]
    public void UnsafePath_Refused(string path) => Assert.NotNull(ProxyGuard.UnsafePath(path));

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1beta/models/gemini-2.5-pro:streamGenerateContent")]
    [InlineData("/v1/files/file-abc..def")]
    public void UnsafePath_OrdinaryPaths_Accepted(string path) => Assert.Null(ProxyGuard.UnsafePath(path));
}
