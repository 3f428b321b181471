using Xares.Sidecar.Run;

namespace Xares.Sidecar.Tests.Run;

public sealed class GeminiAuthHomeTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("gemini-auth-home-tests-");

    private string Home => Path.Combine(_root.FullName, "home");

    private Func<string, string?> Environment(Dictionary<string, string>? extra = null)
    {
        Directory.CreateDirectory(Home);
        var values = new Dictionary<string, string>
        {
            ["HOME"] = Home,
            // The machine's /etc/gemini-cli must not decide the test.
            ["GEMINI_CLI_SYSTEM_SETTINGS_PATH"] = Path.Combine(_root.FullName, "etc", "settings.json"),
        };
        foreach (var (name, value) in extra ?? [])
        {
            values[name] = value;
        }
        return name => values.GetValueOrDefault(name);
    }

    [Fact]
    public void Prepare_FreshHomeWithBaseUrl_TemporaryHomeWithOnlyTheAuthChoice()
    {
        var variables = new Dictionary<string, string> { ["GEMINI_API_KEY"] = "xares-placeholder-1", ["GOOGLE_GEMINI_BASE_URL"] = "http://127.0.0.1:1" };

        string folder;
        using (var home = GeminiAuthHome.Prepare("gemini", variables, Environment()))
        {
            Assert.NotNull(home);
            folder = variables[GeminiAuthHome.HomeVariable];
            Assert.StartsWith(Path.GetTempPath(), folder, StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            var settings = File.ReadAllText(Path.Combine(folder, ".gemini", "settings.json"));
            Assert.Contains("\"selectedType\": \"gemini-api-key\"", settings, StringComparison.Ordinal);
            Assert.DoesNotContain("xares-placeholder", settings, StringComparison.Ordinal);
            Assert.Equal(Path.Combine(Home, ".gemini", "trustedFolders.json"), variables[GeminiAuthHome.TrustedFoldersVariable]);
            Assert.False(Directory.Exists(Path.Combine(Home, ".gemini")));
        }
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Prepare_UserSettingsStoreAChoice_NothingChanges()
    {
        Directory.CreateDirectory(Path.Combine(Home, ".gemini"));
        File.WriteAllText(Path.Combine(Home, ".gemini", "settings.json"), """
            // comments and trailing commas, as Gemini CLI allows
            {"security": {"auth": {"selectedType": "oauth-personal",},},}
            """);
        var variables = new Dictionary<string, string> { ["GOOGLE_GEMINI_BASE_URL"] = "http://127.0.0.1:1" };

        Assert.Null(GeminiAuthHome.Prepare("gemini", variables, Environment()));
        Assert.False(variables.ContainsKey(GeminiAuthHome.HomeVariable));
    }

    [Theory]
    [InlineData("gemini", false)]
    [InlineData("aider", true)]
    [InlineData(null, true)]
    public void Prepare_NoBaseUrlOrOtherTool_NothingChanges(string? tool, bool withBaseUrl)
    {
        var variables = new Dictionary<string, string> { ["GEMINI_API_KEY"] = "k" };
        if (withBaseUrl)
        {
            variables["GOOGLE_GEMINI_BASE_URL"] = "http://127.0.0.1:1";
        }

        Assert.Null(GeminiAuthHome.Prepare(tool, variables, Environment()));
        Assert.Equal(withBaseUrl ? 2 : 1, variables.Count);
    }

    public void Dispose() => _root.Delete(recursive: true);
}
