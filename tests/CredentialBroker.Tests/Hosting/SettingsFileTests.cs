using Serilog.Events;
using Xares.Broker.Hosting;

namespace Xares.Broker.Tests.Hosting;

/// <summary>`--config FILE`: option names as keys, below flags and XARES_* variables, every error named at once.</summary>
public sealed class SettingsFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xares-settings-").FullName;

    [Fact]
    public void File_ValuesUsed_FlagsWin()
    {
        var config = Write("""
            {
              "rest-url": "http://127.0.0.1:17400",
              "lease-ttl-seconds": 120,
              "outbound-allow": ["127.0.0.1", "10.1.0.0/16"],
              "trusted-proxy": "10.0.0.1",
              "audit-retention-days": 30,
              "master-key-file": "/run/secrets/xares-master-key",
              "log-level": "Debug",
              "log-category-level": { "Xares.Broker.Docker": "Verbose", "Npgsql": "Error" }
            }
            """);

        var options = Read("serve", "--config", config, "--lease-ttl-seconds", "60");

        Assert.Equal("http://127.0.0.1:17400", options.RestUrl);
        Assert.Equal(TimeSpan.FromSeconds(60), options.LeaseLifetime);
        Assert.Equal(["127.0.0.1", "10.1.0.0/16"], options.OutboundAllow);
        Assert.Equal(["10.0.0.1"], options.TrustedProxies);
        Assert.Equal(30, options.Audit.RetentionDays);
        Assert.Equal("/run/secrets/xares-master-key", options.MasterKeyFile);
        Assert.Equal(LogEventLevel.Debug, options.Logging.Level);
        Assert.Equal(LogEventLevel.Verbose, options.Logging.Categories["Xares.Broker.Docker"]);
        Assert.Equal(LogEventLevel.Error, options.Logging.Categories["Npgsql"]);
    }

    [Fact]
    public void Variable_BeatsFile()
    {
        var config = Write("""{ "minted-reuse-margin-seconds": 300 }""");
        // A value no other test reads differently: the environment is shared with parallel tests.
        Environment.SetEnvironmentVariable("XARES_MINTED_REUSE_MARGIN_SECONDS", "240");
        try
        {
            Assert.Equal(TimeSpan.FromSeconds(240), Read("serve", "--config", config).MintedReuseMargin);
            Assert.Equal(TimeSpan.FromSeconds(200), Read("serve", "--config", config, "--minted-reuse-margin-seconds", "200").MintedReuseMargin);
        }
        finally
        {
            Environment.SetEnvironmentVariable("XARES_MINTED_REUSE_MARGIN_SECONDS", null);
        }
        Assert.Equal(TimeSpan.FromSeconds(300), Read("serve", "--config", config).MintedReuseMargin);
    }

    [Fact]
    public void BadSettings_AllNamedInOneError()
    {
        var config = Write("""
            { "lease-ttl-seconds": 0, "session-rate": "fast", "log-level": "Loud", "rest_url": "x", "trusted-proxy": ["lb.example.test"] }
            """);

        var error = Assert.Throws<SettingsException>(() => Read("serve", "--config", config));

        Assert.StartsWith("5 settings are wrong:", error.Message, StringComparison.Ordinal);
        Assert.Contains($"--lease-ttl-seconds (XARES_LEASE_TTL_SECONDS, or \"lease-ttl-seconds\" in {config}) must be a number from 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("--session-rate", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Loud' is not a log level", error.Message, StringComparison.Ordinal);
        Assert.Contains("unknown setting \"rest_url\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("lb.example.test", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MasterKeyInFile_Refused()
    {
        var config = Write("""{ "master-key": "c2VjcmV0LW5ldmVyLWluLWEtZmlsZQ==" }""");

        var error = Assert.Throws<SettingsException>(() => Read("serve", "--config", config));

        Assert.Contains("never goes in a settings file", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"rest-url\": ")]
    [InlineData("[1, 2]")]
    public void MalformedFile_NamedWithTheFile(string text)
    {
        var config = Write(text);

        var error = Assert.Throws<SettingsException>(() => Read("serve", "--config", config));

        Assert.Contains($"--config {config}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_Named()
    {
        var missing = Path.Combine(_directory, "absent.json");

        var error = Assert.Throws<SettingsException>(() => Read("migrate", "--config", missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reread_SeesTheNewFile_KeepsFlags()
    {
        var config = Write("""{ "log-level": "Warning", "session-burst": 50 }""");
        var options = Read("serve", "--config", config, "--session-burst", "70");
        File.WriteAllText(config, """{ "log-level": "Debug", "session-burst": 60 }""");

        var reread = options.Reread!();

        Assert.Equal(LogEventLevel.Warning, options.Logging.Level);
        Assert.Equal(LogEventLevel.Debug, reread.Logging.Level);
        Assert.Equal(70, reread.SessionBurst);
    }

    [Fact]
    public void LogLevelSwitches_UpdateMovesKnownCategories_NamesNewOnes()
    {
        var switches = new LogLevelSwitches(new LogSettings { Categories = new Dictionary<string, LogEventLevel> { ["Npgsql"] = LogEventLevel.Error } });

        var needRestart = switches.Update(new LogSettings
        {
            Level = LogEventLevel.Debug,
            Categories = new Dictionary<string, LogEventLevel> { ["Npgsql"] = LogEventLevel.Information, ["Xares.Broker.Docker"] = LogEventLevel.Verbose },
        });

        Assert.Equal(LogEventLevel.Debug, switches.Default.MinimumLevel);
        Assert.Equal(["Xares.Broker.Docker"], needRestart);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static BrokerOptions Read(params string[] args) => BrokerCommandLine.Read(BrokerCommandLine.Create().Parse(args));
}
