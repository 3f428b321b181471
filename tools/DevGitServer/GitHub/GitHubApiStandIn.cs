using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Xares.DevGitServer.GitHub;

/// <summary>An installation of an app on an account, with the repositories it may reach and its contents permission.</summary>
internal sealed record StandInInstallation(long Id, string AppId, string Owner, IReadOnlyList<string> Repositories, string Contents = "write");

/// <summary>A token the stand-in minted (the test reads these; the broker never sees this type).</summary>
internal sealed record StandInToken(string Token, long InstallationId, string Owner, IReadOnlyList<string> Repositories, string Contents, DateTimeOffset ExpiresAt)
{
    public bool Revoked { get; set; }

    public override string ToString() => $"{nameof(StandInToken)} {{ Installation = {InstallationId}, Repositories = {string.Join(',', Repositories)}, Contents = {Contents} }}";
}

/// <summary>One POST …/access_tokens that succeeded: what was asked and by which JWT.</summary>
internal sealed record StandInMint(long InstallationId, IReadOnlyList<string> Repositories, IReadOnlyDictionary<string, string> Permissions, AppJwtClaims Claims);

/// <summary>
/// A stand-in for the GitHub REST API endpoints a GitHub App uses, as documented:
/// POST /app/installations/{id}/access_tokens (RS256 app JWT checked against the app's public
/// key, iat/exp window, repositories and permissions narrowed to the installation's),
/// GET /repos/{owner}/{repo}/installation, GET /app/installations and DELETE /installation/token.
/// Its tokens look like GitHub's newer, longer stateless ones (ghs_APPID_…), and git servers ask
/// POST /_standin/introspect whether one is live and what it covers. Loopback, port 0.
/// </summary>
internal sealed partial class GitHubApiStandIn : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, RSA> _apps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, StandInInstallation> _installations = new();
    private readonly ConcurrentDictionary<string, StandInToken> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<StandInMint> _mints = new();
    private readonly ConcurrentQueue<string> _calls = new();
    private readonly ConcurrentQueue<StandInToken> _revoked = new();
    private WebApplication? _app;
    private int _failRevocations;

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>; the apiUrl to register.</summary>
    public string Origin { get; private set; } = "";

    /// <summary>How long minted tokens live (GitHub: one hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Added before every answer of the GitHub endpoints (not of /_standin/introspect), as a far
    /// API would take: bench/minted-fill.sh runs it at 50 ms. Real time, whatever <see cref="Time"/> is.
    /// </summary>
    public TimeSpan Latency { get; set; }

    public IReadOnlyList<StandInMint> Mints => [.. _mints];

    public IReadOnlyList<StandInToken> Tokens => [.. _tokens.Values];

    /// <summary>Tokens revoked through DELETE /installation/token, in order.</summary>
    public IReadOnlyList<StandInToken> RevokedTokens => [.. _revoked];

    /// <summary>"METHOD path" of every request.</summary>
    public IReadOnlyList<string> Calls => [.. _calls];

    public static async Task<GitHubApiStandIn> StartAsync()
    {
        var standIn = new GitHubApiStandIn();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(standIn.HandleAsync);
        await app.StartAsync();
        standIn._app = app;
        standIn.Origin = app.Urls.First().TrimEnd('/');
        return standIn;
    }

    /// <summary>Registers an app by its id (the JWT issuer) and public key.</summary>
    public void AddApp(string appId, RSA publicKey) => _apps[appId] = publicKey;

    public void AddInstallation(StandInInstallation installation) => _installations[installation.Id] = installation;

    /// <summary>The next <paramref name="count"/> DELETE /installation/token calls answer 503 (GitHub down).</summary>
    public void FailRevocations(int count) => Volatile.Write(ref _failRevocations, count);

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        _calls.Enqueue($"{request.Method} {path}");
        if (Latency > TimeSpan.Zero && path != "/_standin/introspect")
        {
            await Task.Delay(Latency, context.RequestAborted);
        }
        var now = Time.GetUtcNow();
        switch (request.Method)
        {
            case "POST" when AccessTokensPath().Match(path) is { Success: true } m:
                await CreateTokenAsync(context, long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), now);
                return;
            case "GET" when RepositoryInstallationPath().Match(path) is { Success: true } m:
                if (await AuthenticateAsync(context, now) is { } claims)
                {
                    var installation = _installations.Values.FirstOrDefault(i => i.AppId == claims.Issuer
                        && string.Equals(i.Owner, m.Groups[1].Value, StringComparison.OrdinalIgnoreCase)
                        && i.Repositories.Contains(m.Groups[2].Value, StringComparer.OrdinalIgnoreCase));
                    await (installation is null ? MessageAsync(context, 404, "Not Found") : JsonAsync(context, 200, Describe(installation)));
                }
                return;
            case "GET" when path == "/app/installations":
                if (await AuthenticateAsync(context, now) is { } app)
                {
                    await JsonAsync(context, 200, _installations.Values.Where(i => i.AppId == app.Issuer).OrderBy(i => i.Id).Select(Describe).ToList());
                }
                return;
            case "DELETE" when path == "/installation/token":
                await RevokeAsync(context, now);
                return;
            case "POST" when path == "/_standin/introspect":
                await IntrospectAsync(context, now);
                return;
            default:
                await MessageAsync(context, 404, "Not Found");
                return;
        }
    }

    private async Task CreateTokenAsync(HttpContext context, long installationId, DateTimeOffset now)
    {
        if (await AuthenticateAsync(context, now) is not { } claims)
        {
            return;
        }
        if (!_installations.TryGetValue(installationId, out var installation) || installation.AppId != claims.Issuer)
        {
            await MessageAsync(context, 404, "Not Found");
            return;
        }
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
        }
        catch (JsonException)
        {
            await MessageAsync(context, 400, "Problems parsing JSON");
            return;
        }
        var repositories = body.TryGetProperty("repositories", out var r) ? r.EnumerateArray().Select(e => e.GetString()!).ToList() : [.. installation.Repositories];
        if (repositories.Any(name => !installation.Repositories.Contains(name, StringComparer.OrdinalIgnoreCase)))
        {
            await MessageAsync(context, 422, "There is at least one repository that does not exist or is not accessible to the parent installation.");
            return;
        }
        var permissions = body.TryGetProperty("permissions", out var p)
            ? p.EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetString()!, StringComparer.Ordinal)
            : new Dictionary<string, string> { ["contents"] = installation.Contents, ["metadata"] = "read" };
        var contents = permissions.GetValueOrDefault("contents", "none");
        if (permissions.Keys.Any(k => k is not ("contents" or "metadata")) || contents is not ("read" or "write" or "none")
            || (contents == "write" && installation.Contents != "write") || permissions.GetValueOrDefault("metadata", "read") != "read")
        {
            await MessageAsync(context, 422, "The permissions requested are not granted to this installation.");
            return;
        }
        // GitHub's stateless format since 2026: ghs_APPID_ and a long signed part; never 40 characters.
        var token = $"ghs_{installation.AppId}_{Convert.ToBase64String(RandomNumberGenerator.GetBytes(96)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}";
        var expiresAt = now + TokenLifetime;
        _tokens[token] = new StandInToken(token, installationId, installation.Owner, repositories, contents, expiresAt);
        _mints.Enqueue(new StandInMint(installationId, repositories, permissions, claims));
        await JsonAsync(context, 201, new Dictionary<string, object>
        {
            ["token"] = token,
            ["expires_at"] = expiresAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["permissions"] = permissions,
            ["repository_selection"] = "selected",
            ["repositories"] = repositories.Select((name, i) => new Dictionary<string, object>
            {
                ["id"] = 1000 + i, ["name"] = name, ["full_name"] = $"{installation.Owner}/{name}", ["private"] = true,
            }).ToList(),
        });
    }

    private async Task RevokeAsync(HttpContext context, DateTimeOffset now)
    {
        if (Interlocked.Decrement(ref _failRevocations) >= 0)
        {
            await MessageAsync(context, 503, "Service Unavailable");
            return;
        }
        var presented = Bearer(context.Request);
        if (presented is null || !_tokens.TryGetValue(presented, out var token) || token.Revoked || token.ExpiresAt <= now)
        {
            await MessageAsync(context, 401, "Bad credentials");
            return;
        }
        token.Revoked = true;
        _revoked.Enqueue(token);
        context.Response.StatusCode = 204;
    }

    private async Task IntrospectAsync(HttpContext context, DateTimeOffset now)
    {
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
        var presented = body.TryGetProperty("token", out var t) ? t.GetString() : null;
        var live = presented is not null && _tokens.TryGetValue(presented, out var token) && !token.Revoked && token.ExpiresAt > now ? token : null;
        await JsonAsync(context, 200, live is null
            ? new Dictionary<string, object> { ["active"] = false }
            : new Dictionary<string, object>
            {
                ["active"] = true, ["repositories"] = live.Repositories.Select(r => $"{live.Owner}/{r}").ToList(), ["contents"] = live.Contents,
            });
    }

    /// <summary>Checks the app JWT; answers 401 as GitHub would and returns null when it is refused.</summary>
    private async Task<AppJwtClaims?> AuthenticateAsync(HttpContext context, DateTimeOffset now)
    {
        var jwt = Bearer(context.Request);
        var (claims, error) = jwt is null ? (null, "A JSON web token could not be decoded") : AppJwtVerifier.Verify(jwt, id => _apps.GetValueOrDefault(id), now);
        if (claims is null)
        {
            await MessageAsync(context, 401, error!);
        }
        return claims;
    }

    private static string? Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }

    private static Dictionary<string, object> Describe(StandInInstallation i) => new()
    {
        ["id"] = i.Id, ["app_id"] = i.AppId, ["account"] = new Dictionary<string, object> { ["login"] = i.Owner }, ["repository_selection"] = "selected",
    };

    private static Task MessageAsync(HttpContext context, int status, string message) =>
        JsonAsync(context, status, new Dictionary<string, string> { ["message"] = message, ["documentation_url"] = "https://docs.github.com/rest" });

    private static async Task JsonAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, body);
    }

    [GeneratedRegex("^/app/installations/([0-9]{1,18})/access_tokens$")]
    private static partial Regex AccessTokensPath();

    [GeneratedRegex("^/repos/([A-Za-z0-9._-]+)/([A-Za-z0-9._-]+)/installation$")]
    private static partial Regex RepositoryInstallationPath();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
