namespace Xares.Broker.CredentialHealth;

/// <summary>Gitea and Forgejo: GET {origin}/api/v1/user with "Authorization: token …" (their documented token header). No scopes or rate limit are reported.</summary>
internal sealed class GiteaProbe(Uri apiBase) : ProviderProbe
{
    public override Uri Endpoint => new Uri(apiBase, "user");

    public override async Task<ProbeOutcome> RunAsync(OutboundHttp http, ProbeTarget target, string secret, CancellationToken cancellationToken)
    {
        var url = Endpoint;
        var response = await http.GetAsync(url, request =>
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("token", secret);
            Json(request);
        }, cancellationToken);
        if (!response.IsSuccess)
        {
            return Refusal(response, url.Host);
        }
        var user = Object(response.Body);
        return ProbeOutcome.Success(new ProviderIdentity(String(user, "login"), String(user, "full_name")));
    }
}
