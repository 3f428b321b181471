using Xares.Broker.Hosting;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.WebUi;

/// <summary>The --ui-* options: flags, settings file, the client secret from a file only, and every mistake named at start.</summary>
public sealed class WebUiCommandLineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xares-webui-").FullName;

    [Fact]
    public void Read_NoIssuer_UiOff()
    {
        var ui = Read("serve").Ui;

        Assert.False(ui.Enabled);
        Assert.Null(ui.ClientSecret);
    }

    [Fact]
    public void Read_FlagsAndSecretFile_AllSettingsTaken()
    {
        var secretFile = Write("secret", "s3cr3t-value\n");

        var ui = Read("serve", "--ui-oidc-issuer", "https://login.example.test/realms/x/", "--ui-oidc-client-id", "xares", "--ui-oidc-client-secret-file", secretFile,
            "--ui-oidc-scopes", "openid,email", "--ui-oidc-scopes", "groups", "--ui-user-claim", "upn", "--ui-user-match", "subject", "--ui-create-users", "--ui-admin-claim", "roles=admin",
            "--ui-idle-minutes", "10", "--ui-session-hours", "2").Ui;

        Assert.Equal(new Uri("https://login.example.test/realms/x"), ui.Issuer);
        Assert.Equal("xares", ui.ClientId);
        Assert.Equal("s3cr3t-value", ui.ClientSecret);
        Assert.Equal(["openid", "email", "groups"], ui.Scopes);
        Assert.Equal("upn", ui.UserClaim);
        Assert.Equal(UiUserMatch.Subject, ui.UserMatch);
        Assert.True(ui.CreateUsers);
        Assert.Equal(("roles", "admin"), ui.AdminClaimPair);
        Assert.Equal(TimeSpan.FromMinutes(10), ui.IdleTimeout);
        Assert.Equal(TimeSpan.FromHours(2), ui.AbsoluteTimeout);
        Assert.DoesNotContain("s3cr3t", ui.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SettingsFile_SameNames_DefaultsKept()
    {
        var config = Write("config.json", $$"""{ "ui-oidc-issuer": "https://login.example.test", "ui-oidc-client-id": "xares", "ui-oidc-client-secret-file": "{{Write("secret", "abc")}}" }""");

        var ui = Read("serve", "--config", config).Ui;

        Assert.True(ui.Enabled);
        Assert.Equal("abc", ui.ClientSecret);
        Assert.Equal(["openid", "profile", "email"], ui.Scopes);
        Assert.Equal("email", ui.UserClaim);
        Assert.Equal(UiUserMatch.Email, ui.UserMatch);
        Assert.Null(ui.AdminClaimPair);
    }

    [Fact]
    public void Read_Mistakes_AllNamedInOneError()
    {
        var error = Assert.Throws<SettingsException>(() => Read("serve", "--ui-oidc-issuer", "http://login.example.test",
            "--ui-oidc-scopes", "email", "--ui-admin-claim", "admins", "--ui-user-match", "sub", "--ui-idle-minutes", "600", "--ui-session-hours", "1"));

        Assert.Contains("--ui-oidc-issuer must be an https URL", error.Message, StringComparison.Ordinal);
        Assert.Contains("--ui-oidc-client-id is needed", error.Message, StringComparison.Ordinal);
        Assert.Contains("client secret is needed", error.Message, StringComparison.Ordinal);
        Assert.Contains("must include openid", error.Message, StringComparison.Ordinal);
        Assert.Contains("--ui-admin-claim takes claim=value", error.Message, StringComparison.Ordinal);
        Assert.Contains("--ui-session-hours must not be shorter", error.Message, StringComparison.Ordinal);
        Assert.Contains("--ui-user-match", error.Message, StringComparison.Ordinal);
        Assert.Contains("must be email or subject, not 'sub'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UserMatchFromTheSettingsFile_Taken()
    {
        var config = Write("config.json", $$"""{ "ui-oidc-issuer": "https://login.example.test", "ui-oidc-client-id": "xares", "ui-oidc-client-secret-file": "{{Write("secret", "abc")}}", "ui-user-match": "subject" }""");

        Assert.Equal(UiUserMatch.Subject, Read("serve", "--config", config).Ui.UserMatch);
    }

    [Fact]
    public void Read_SecretInTheSettingsFile_Refused()
    {
        var config = Write("config.json", """{ "ui-oidc-client-secret": "do-not-put-me-here" }""");

        var error = Assert.Throws<SettingsException>(() => Read("serve", "--config", config));

        Assert.Contains("never goes in a settings file", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("do-not-put-me-here", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoSecretFlag_AValueOnTheCommandLineIsNotAccepted()
    {
        Assert.NotEmpty(BrokerCommandLine.Create().Parse(["serve", "--ui-oidc-client-secret", "x"]).Errors);
    }

    [Fact]
    public void Read_UnreadableSecretFile_NamedInTheError()
    {
        var missing = Path.Combine(_directory, "missing");

        var error = Assert.Throws<SettingsException>(() =>
            Read("serve", "--ui-oidc-issuer", "https://login.example.test", "--ui-oidc-client-id", "x", "--ui-oidc-client-secret-file", missing));

        Assert.Contains($"--ui-oidc-client-secret-file {missing} cannot be read", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_HttpIssuerOnLoopback_AllowedForDevelopment()
    {
        var ui = Read("serve", "--ui-oidc-issuer", "http://127.0.0.1:9000", "--ui-oidc-client-id", "x", "--ui-oidc-client-secret-file", Write("s", "x")).Ui;

        Assert.Empty(ui.Problems());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static BrokerOptions Read(params string[] args) => BrokerCommandLine.Read(BrokerCommandLine.Create().Parse(args));

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }
}
