namespace Xares.Broker.CredentialHealth;

/// <summary>
/// Any git server over HTTP: GET {url}/info/refs?service=git-upload-pack with Basic auth, as git
/// itself starts a fetch. A 2xx with the smart-HTTP advertisement content type is ok; 401/403 is
/// a rejected secret. The credential's url must name a repository for this to be meaningful.
/// </summary>
internal sealed class SmartHttpProbe(Uri repository) : ProviderProbe
{
    private const string Advertisement = "application/x-git-upload-pack-advertisement";

    public override Uri Endpoint => new Uri(repository.AbsoluteUri.TrimEnd('/') + "/info/refs?service=git-upload-pack");

    public override async Task<ProbeOutcome> RunAsync(OutboundHttp http, ProbeTarget target, string secret, CancellationToken cancellationToken)
    {
        var url = Endpoint;
        var response = await http.GetAsync(url, request =>
        {
            Basic(request, target.Username ?? "", secret);
            request.Headers.Add("Git-Protocol", "version=2");
        }, cancellationToken);
        if (response.Status == 404)
        {
            return ProbeOutcome.Failure($"{url.Host} has no git repository at the credential's URL (HTTP 404); generic credentials are tested against a repository URL");
        }
        if (!response.IsSuccess)
        {
            return Refusal(response, url.Host);
        }
        var contentType = response.Header("Content-Type")?.Split(';')[0].Trim();
        return string.Equals(contentType, Advertisement, StringComparison.OrdinalIgnoreCase)
            ? ProbeOutcome.Success(target.Username is null ? null : new ProviderIdentity(Login: target.Username))
            : ProbeOutcome.Failure($"{url.Host} answered without a git smart-HTTP advertisement (content type {contentType ?? "none"}): not a git server, or a login page");
    }
}
