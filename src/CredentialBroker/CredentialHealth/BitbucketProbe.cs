namespace Xares.Broker.CredentialHealth;

/// <summary>
/// Bitbucket Cloud: GET https://api.bitbucket.org/2.0/user. Repository, project and workspace
/// access tokens (git username x-token-auth) authenticate as Bearer; app passwords and API tokens
/// as Basic with the credential's username. X-OAuth-Scopes when Bitbucket sends it.
/// </summary>
internal sealed class BitbucketProbe(Uri apiBase) : ProviderProbe
{
    public const string AccessTokenUsername = "x-token-auth";

    public override Uri Endpoint => new Uri(apiBase, "user");

    public override async Task<ProbeOutcome> RunAsync(OutboundHttp http, ProbeTarget target, string secret, CancellationToken cancellationToken)
    {
        var url = Endpoint;
        var response = await http.GetAsync(url, request =>
        {
            if (target.Username is null or AccessTokenUsername)
            {
                Bearer(request, secret);
            }
            else
            {
                Basic(request, target.Username, secret);
            }
            Json(request);
        }, cancellationToken);
        if (!response.IsSuccess)
        {
            return Refusal(response, url.Host);
        }
        var user = Object(response.Body);
        return ProbeOutcome.Success(new ProviderIdentity(String(user, "username"), String(user, "display_name"), List(response.Header("X-OAuth-Scopes"))));
    }
}
