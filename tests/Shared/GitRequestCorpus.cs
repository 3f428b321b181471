namespace Xares.Tests.Shared;

/// <summary>
/// git requests and how the broker reads them: the canonical target (<c>scheme://host[:port][/path]</c>)
/// or null when it matches nothing. Linked into the broker's and the sidecar's tests, so the
/// broker's matcher and the sidecar's lease cache are held to the same answers.
/// </summary>
internal static class GitRequestCorpus
{
    /// <summary>What the cache holds in the sidecar tests and the stored credential in the broker's.</summary>
    public const string CachedHost = "kit.example.test";

    public const string CachedTarget = "https://kit.example.test";

    public static TheoryData<string, string, string, string?> Rows => new()
    {
        // Same request, written the ways git and people write it.
        { "https", "kit.example.test", "", CachedTarget },
        { "HTTPS", "KIT.Example.TEST", "", CachedTarget },
        { "https", "kit.example.test:443", "", CachedTarget },
        { "https", "kit.example.test.", "", CachedTarget },
        { "https", "kit.example.test.:443", "", CachedTarget },
        // Other targets: other port, scheme, path.
        { "https", "kit.example.test:8443", "", "https://kit.example.test:8443" },
        { "http", "kit.example.test", "", "http://kit.example.test" },
        { "http", "kit.example.test:80", "", "http://kit.example.test" },
        { "http", "kit.example.test:443", "", "http://kit.example.test:443" },
        { "https", "kit.example.test", "org/repo.git", "https://kit.example.test/org/repo.git" },
        { "https", "kit.example.test", "Org/Repo", "https://kit.example.test/Org/Repo" },
        { "https", "[0:0::1]:8443", "org", "https://[::1]:8443/org" },
        { "https", "bücher.example", "", "https://xn--bcher-kva.example" },
        // Nothing at all: Unicode folding (Kelvin sign U+212A, dotted I), padding, odd ports and paths.
        { "https", "\u212Ait.example.test", "", null },
        { "https", "k\u0130t.example.test", "", null },
        { "https", " kit.example.test", "", null },
        { "https", "kit.example.test ", "", null },
        { "https ", "kit.example.test", "", null },
        { "https", "kit.example.test", " ", CachedTarget + "/ " },
        { "https", "kit.example.test..", "", null },
        { "https", ".kit.example.test", "", null },
        { "https", "kit.example.test:0443", "", null },
        { "https", "kit.example.test:", "", null },
        { "https", "kit.example.test:65536", "", null },
        { "https", "kit.example.test:443:443", "", null },
        { "https", "user@kit.example.test", "", null },
        { "https", "user:pw@kit.example.test", "", null },
        { "https", "kit.example.test/org", "", null },
        { "https", "kit.example.test", "/org/repo", null },
        { "https", "kit.example.test", "org/repo/", null },
        { "https", "kit.example.test", "org//repo", null },
        { "https", "kit.example.test", "org/../repo", null },
        { "https", "kit.example.test", "org\\repo", null },
        { "https", "kit.example.test", "org/%2e%2e", null },
        { "ssh", "kit.example.test", "", null },
        { "ｈttps", "kit.example.test", "", null },
        { "https", "::1", "", null },
        { "https", "[fe80::1%eth0]", "", null },
    };
}
