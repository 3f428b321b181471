namespace Xares.DevGitServer;

/// <summary>How to start a <see cref="GitHttpServer"/>.</summary>
internal sealed class GitHttpServerOptions
{
    /// <summary>The folder holding the bare repositories; request paths are relative to it.</summary>
    public required string RepositoriesRoot { get; init; }

    public IReadOnlyList<GitAccount> Accounts { get; init; } = [];

    /// <summary>Listen address; port 0 picks a free port (read it back from <see cref="GitHttpServer.BaseUrl"/>).</summary>
    public string Url { get; init; } = "http://127.0.0.1:0";

    public string GitExecutable { get; init; } = "git";

    /// <summary>
    /// When set, a password no static account knows is checked with this introspection endpoint
    /// (the GitHub API stand-in's POST /_standin/introspect): minted tokens work only for their
    /// repositories and until they expire or are revoked.
    /// </summary>
    public Uri? TokenIntrospectionUrl { get; init; }

    /// <summary>
    /// With <see cref="IntrospectionClientSecret"/>: ask <see cref="TokenIntrospectionUrl"/> as an
    /// RFC 7662 resource server (form-encoded token, HTTP Basic client authentication) instead; an
    /// active token is good for every repository (an OAuth access token of the connected account).
    /// </summary>
    public string? IntrospectionClientId { get; init; }

    public string? IntrospectionClientSecret { get; init; }

    /// <summary>Where log lines go; by default nowhere (tests read <see cref="GitHttpServer.AuthAttempts"/>).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
}
