using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Xares.Broker.ApiKeys;
using Xares.Broker.RateLimiting;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.Api;

/// <summary>
/// `Authorization: Bearer xar_…` against the hashed api_keys table. Failures are counted towards
/// the client's rate limit (<see cref="AuthFailureThrottle"/>) and audited in aggregate.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyStore keys,
    WriteQueue writes,
    AuthFailureThrottle throttle,
    AuthFailureAudit failures) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        // gRPC calls carry sidecar session tokens, checked by the sidecar service itself.
        if (string.IsNullOrEmpty(header) || IsGrpc(Request))
        {
            return AuthenticateResult.NoResult();
        }
        var token = BearerToken(header);
        var key = OpaqueToken.HasShape(token, OpaqueToken.ApiKeyPrefix) ? await keys.FindActiveAsync(token!) : null;
        if (key is null)
        {
            var address = Context.Connection.RemoteIpAddress;
            Hosting.AuthFailureLog.Record(Logger, "rest", address?.ToString(), $"{Request.Method} {Request.Path}: API key unknown, revoked or expired");
            throttle.RecordFailure(ClientPartition.Of(address), token);
            await failures.RecordAsync("api", address is null ? null : TrustedProxies.ClientKey(address), $"{Request.Method} {Request.Path}");
            return AuthenticateResult.Fail("The API key is unknown, revoked or expired.");
        }

        var now = Context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (key.LastUsedAt is null || now - key.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await writes.ExecuteAsync((c, t) => ApiKeyStore.TouchLastUsed(c, t, key.Id, now));
        }

        var claims = new List<Claim> { new(CallerClaims.KeyId, key.Id) };
        claims.AddRange(key.Scopes.Select(s => new Claim(CallerClaims.Scope, s)));
        if (key.UserId is not null)
        {
            claims.Add(new Claim(CallerClaims.UserId, key.UserId));
        }
        var identity = new ClaimsIdentity(claims, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    internal static bool IsGrpc(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;

    internal static string? BearerToken(string header)
    {
        const string bearer = "Bearer ";
        return header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? header[bearer.Length..].Trim() : null;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties) =>
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "unauthorized", "A valid API key is required (Authorization: Bearer xar_…).");

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        await WriteProblemAsync(StatusCodes.Status403Forbidden, "forbidden", "The API key lacks the scope this request needs.");

    private async Task WriteProblemAsync(int status, string type, string title)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            Response.Headers.WWWAuthenticate = "Bearer";
        }
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Type = ProblemMapping.TypeBase + type, Title = title, Status = status },
        });
    }
}
