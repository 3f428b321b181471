using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xares.DevGitServer;

/// <summary>
/// Accepts upstream-minted tokens by asking their issuer: POST {url} {"token": …} answers
/// {active, repositories: ["owner/repo"], contents: "read"|"write"} (the GitHub API stand-in's
/// introspection). A token is good only while active, only for its repositories, and pushes need
/// contents "write". Tokens are never cached, so a revoked or expired one is refused at once.
/// </summary>
internal sealed class TokenIntrospection(Uri url) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public async Task<AuthOutcome> CheckAsync(string token, IReadOnlyList<string> pathSegments, bool push, CancellationToken cancellationToken)
    {
        IntrospectionReply? reply;
        try
        {
            using var response = await _http.PostAsJsonAsync(url, new IntrospectionRequest(token), IntrospectionContext.Default.IntrospectionRequest, cancellationToken);
            reply = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync(IntrospectionContext.Default.IntrospectionReply, cancellationToken) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException)
        {
            return AuthOutcome.WrongCredentials;
        }
        if (reply is not { Active: true })
        {
            return AuthOutcome.WrongCredentials;
        }
        // owner/repo.git (and the smart-HTTP suffixes after it).
        var repository = pathSegments.Count >= 2 ? $"{pathSegments[0]}/{StripGit(pathSegments[1])}" : "";
        if (!(reply.Repositories ?? []).Contains(repository, StringComparer.OrdinalIgnoreCase))
        {
            return AuthOutcome.OutsidePathPrefix;
        }
        return push && reply.Contents != "write" ? AuthOutcome.ReadOnly : AuthOutcome.Granted;
    }

    private static string StripGit(string name) => name.EndsWith(".git", StringComparison.OrdinalIgnoreCase) ? name[..^4] : name;

    public void Dispose() => _http.Dispose();
}

internal sealed record IntrospectionRequest(string Token)
{
    public override string ToString() => nameof(IntrospectionRequest);
}

internal sealed record IntrospectionReply(bool Active, IReadOnlyList<string>? Repositories, string? Contents);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IntrospectionRequest))]
[JsonSerializable(typeof(IntrospectionReply))]
internal sealed partial class IntrospectionContext : JsonSerializerContext;
