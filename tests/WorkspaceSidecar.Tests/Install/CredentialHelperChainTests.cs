using Xares.Sidecar.Install;

namespace Xares.Sidecar.Tests.Install;

public sealed class CredentialHelperChainTests
{
    private const string Xares = "/usr/local/bin/git-credential-xares";

    private static string Listing(params (string Scope, string File, string Key, string? Value)[] entries) =>
        string.Concat(entries.Select(e => $"{e.Scope}\0file:{e.File}\0{e.Key}{(e.Value is null ? "" : "\n" + e.Value)}\0"));

    [Fact]
    public void Parse_ScopeOriginKeyValue_ReadsEveryRecord()
    {
        var entries = CredentialHelperChain.Parse(Listing(
            ("global", "/h/.gitconfig", "credential.https://h.example.helper", ""),
            ("local", "/r/.git/config", "credential.helper", "store --file /x")));

        Assert.Equal(2, entries.Count);
        Assert.Equal(new GitConfigEntry("global", "file:/h/.gitconfig", "credential.https://h.example.helper", ""), entries[0]);
        Assert.Equal("https://h.example", entries[0].Url);
        Assert.Equal("", entries[1].Url);
        Assert.Equal("/r/.git/config", entries[1].OriginFile);
    }

    [Fact]
    public void Foreign_StoreConfiguredAfterXaresSection_IsReported()
    {
        var entries = CredentialHelperChain.Parse(Listing(
            ("system", "/etc/gitconfig", "credential.helper", "cache"),
            ("global", "/h/.gitconfig", "credential.https://h.example.helper", ""),
            ("global", "/h/.gitconfig", "credential.https://h.example.helper", Xares),
            ("global", "/h/.gitconfig", "credential.helper", "store")));

        var foreign = CredentialHelperChain.Foreign(entries, "https://h.example");

        Assert.Equal(["store"], foreign.Select(f => f.Value));
    }

    [Fact]
    public void Foreign_CommandScopeResetLast_DropsEveryEarlierHelper()
    {
        var entries = CredentialHelperChain.Parse(Listing(
            ("global", "/h/.gitconfig", "credential.helper", "store"),
            ("local", "/r/.git/config", "credential.helper", "osxkeychain"),
            ("command", "/h/.config/xares/git-credentials.conf", "credential.https://h.example.helper", ""),
            ("command", "/h/.config/xares/git-credentials.conf", "credential.https://h.example.helper", Xares)));

        Assert.Empty(CredentialHelperChain.Foreign(entries, "https://h.example"));
        Assert.Equal([Xares], CredentialHelperChain.Effective(entries, "https://h.example").Select(e => e.Value));
        // Another host keeps the user's helpers, and Xares is not among them: nothing to report.
        Assert.Equal(["store", "osxkeychain"], CredentialHelperChain.Effective(entries, "https://other.example").Select(e => e.Value));
        Assert.Empty(CredentialHelperChain.Foreign(entries, "https://other.example"));
    }

    [Theory]
    [InlineData("", "https://h.example", true)]
    [InlineData("https://h.example", "https://h.example", true)]
    [InlineData("https://H.Example/", "https://h.example", true)]
    [InlineData("https://h.example:443", "https://h.example", true)]
    [InlineData("https://h.example:8443", "https://h.example", false)]
    [InlineData("http://h.example", "https://h.example", false)]
    [InlineData("https://*.example", "https://h.example", true)]
    [InlineData("https://*.example", "https://a.h.example", false)]
    [InlineData("https://h.example/team", "https://h.example/team/repo.git", true)]
    [InlineData("https://h.example/team", "https://h.example/team-evil/repo.git", false)]
    [InlineData("https://h.example/team", "https://h.example", true)]
    [InlineData("https://alice@h.example", "https://h.example", true)]
    public void Matches_ConfigUrl_AppliesLikeGitOrBroader(string configUrl, string url, bool expected)
    {
        Assert.Equal(expected, CredentialHelperChain.Matches(configUrl, url));
    }

    [Theory]
    [InlineData(Xares, true)]
    [InlineData("!'/opt/my tools/git-credential-xares'", true)]
    [InlineData("xares", true)]
    [InlineData("store", false)]
    [InlineData("cache --timeout 60", false)]
    public void IsXares_HelperValues(string value, bool expected)
    {
        Assert.Equal(expected, CredentialHelperChain.IsXares(value));
    }

    [Fact]
    public void ConfigLineFinder_NthHelperOfUrlSection_GivesItsLine()
    {
        const string text = "[user]\n\tname = a\n[credential \"https://h.example\"]\n\thelper =\n\thelper = x\n[credential]\n\thelper = store\n[credential \"https://h.example\"]\n\tHelper = cache\n";

        Assert.Equal(4, ConfigLineFinder.Find(text, "https://h.example", 0));
        Assert.Equal(9, ConfigLineFinder.Find(text, "https://h.example", 2));
        Assert.Equal(7, ConfigLineFinder.Find(text, "", 0));
        Assert.Null(ConfigLineFinder.Find(text, "", 1));
    }
}
