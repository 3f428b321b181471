namespace Xares.Broker.Credentials;

/// <summary>The two kinds of credential and the providers each accepts.</summary>
internal static class CredentialKinds
{
    public const string Git = "git";
    public const string Ai = "ai";

    public static readonly IReadOnlySet<string> GitProviders = new HashSet<string>(StringComparer.Ordinal)
    {
        "github", "gitlab", "forgejo", "gitea", "bitbucket", "generic",
    };

    public static readonly IReadOnlySet<string> AiProviders = new HashSet<string>(StringComparer.Ordinal)
    {
        "openai", "anthropic", "google", "openrouter", "groq",
    };

    public static IReadOnlySet<string>? ProvidersOf(string? kind) => kind switch
    {
        Git => GitProviders,
        Ai => AiProviders,
        _ => null,
    };
}
