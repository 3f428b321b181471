using Xares.Broker.Credentials;
using Xares.Broker.Credentials.Matching;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// Which endpoint tests which credential. The API is derived from the credential's own
/// destination, so a secret is only ever sent to the host it is for (or that host's fixed API
/// host on the public forges):
/// github.com → https://api.github.com/user; other GitHub hosts (Enterprise Server) → {origin}/api/v3/user;
/// GitLab → {origin}/api/v4/user; Gitea/Forgejo → {origin}/api/v1/user;
/// bitbucket.org → https://api.bitbucket.org/2.0/user; other Bitbucket hosts and generic → {url}/info/refs;
/// OpenAI/Groq → {baseUrl}/models; OpenRouter → {baseUrl}/key; Anthropic → {baseUrl}/v1/models;
/// Google → {baseUrl}/v1beta/models; baseUrl defaults to the provider's public API.
/// </summary>
internal static class ProviderProbes
{
    private static readonly Dictionary<string, string> DefaultAiBases = new(StringComparer.Ordinal)
    {
        ["openai"] = "https://api.openai.com/v1",
        ["anthropic"] = "https://api.anthropic.com",
        ["google"] = "https://generativelanguage.googleapis.com",
        ["openrouter"] = "https://openrouter.ai/api/v1",
        ["groq"] = "https://api.groq.com/openai/v1",
    };

    /// <summary>The probe for a credential, or null when its stored destination no longer parses (edited in the database).</summary>
    public static ProviderProbe? For(ProbeTarget target) => target.Kind == CredentialKinds.Ai ? ForAi(target) : ForGit(target);

    private static ProviderProbe? ForGit(ProbeTarget target)
    {
        if (target.Url is null || !GitDestination.TryParse(target.Url, out var destination, out _))
        {
            return null;
        }
        var origin = destination.OriginUrl + "/";
        return target.Provider switch
        {
            "github" when destination.Host is "github.com" or "www.github.com" => new GitHubProbe(new Uri("https://api.github.com/")),
            "github" => new GitHubProbe(new Uri(origin + "api/v3/")),
            "gitlab" => new GitLabProbe(new Uri(origin + "api/v4/")),
            "gitea" or "forgejo" => new GiteaProbe(new Uri(origin + "api/v1/")),
            "bitbucket" when destination.Host is "bitbucket.org" or "www.bitbucket.org" => new BitbucketProbe(new Uri("https://api.bitbucket.org/2.0/")),
            _ => new SmartHttpProbe(new Uri(destination.CanonicalUrl)),
        };
    }

    private static ProviderProbe? ForAi(ProbeTarget target)
    {
        var baseUrl = target.Url ?? DefaultAiBases.GetValueOrDefault(target.Provider);
        if (baseUrl is null || !Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var root))
        {
            return null;
        }
        return target.Provider switch
        {
            "anthropic" => new ModelListProbe(new Uri(root, "v1/models"), ModelListProbe.KeyStyle.Anthropic),
            "google" => new ModelListProbe(new Uri(root, "v1beta/models"), ModelListProbe.KeyStyle.Google),
            "openrouter" => new OpenRouterProbe(new Uri(root, "key")),
            _ => new ModelListProbe(new Uri(root, "models"), ModelListProbe.KeyStyle.Bearer),
        };
    }
}
