using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xares.DevGitServer;

/// <summary>
/// Accepts upstream-minted tokens by asking their issuer: POST {url} {"token": …} answers
/// {active, repositories: ["owner/repo"], contents: "read"|"write"} (the GitHub API stand-in's
/// introspection). A token is good only while active, only for its repositories, and pushes need
/// contents "write". Tokens are never cached, so a revoked or expired one is refused at once.
/// With a client id and secret it asks as an RFC 7662 resource server instead (an OAuth
/// authorization server's introspection endpoint): an active token is good for every repository.
/// </summary>
internal sealed class TokenIntrospection(Uri url, string? clientId = null, string? clientSecret = null) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public async Task<AuthOutcome> CheckAsync(string token, IReadOnlyList<string> pathSegments, bool push, CancellationToken cancellationToken)
    {
        if (clientId is not null && clientSecret is not null)
        {
            return await CheckRfc7662Async(token, cancellationToken) ? AuthOutcome.Granted : AuthOutcome.WrongCredentials;
        }
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

    private async Task<bool> CheckRfc7662Async(string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token, ["token_type_hint"] = "access_token" }),
        };
        var pair = Uri.EscapeDataString(clientId!) + ":" + Uri.EscapeDataString(clientSecret!);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(pair)));
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            var reply = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync(IntrospectionContext.Default.IntrospectionReply, cancellationToken) : null;
            return reply is { Active: true };
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException)
        {
            return false;
        }
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
