using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.Connections;
using Xares.Broker.Minted;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>
/// Admin: the GitHub Apps and OAuth providers, oldest first (as GET /api/v1/github-apps and
/// /api/v1/oauth-providers list them: the private key's fingerprint and the client secret's hint only).
/// </summary>
internal sealed class AppsModel(Database database) : PageModel
{
    public const int Shown = 100;

    public IReadOnlyList<GitHubAppResponse> GitHubApps { get; private set; } = [];

    public IReadOnlyList<OAuthProviderResponse> Providers { get; private set; } = [];

    public bool MoreApps { get; private set; }

    public bool MoreProviders { get; private set; }

    public async Task OnGetAsync()
    {
        var (apps, providers) = await database.ReadAsync(c =>
            (GitHubAppStore.ListAfter(c, ListingPosition.Start, Shown + 1), OAuthProviderStore.ListAfter(c, ListingPosition.Start, Shown + 1)));
        (MoreApps, MoreProviders) = (apps.Count > Shown, providers.Count > Shown);
        GitHubApps = apps.Take(Shown).Select(GitHubAppResponse.From).ToList();
        Providers = providers.Take(Shown).Select(OAuthProviderResponse.From).ToList();
    }
}
