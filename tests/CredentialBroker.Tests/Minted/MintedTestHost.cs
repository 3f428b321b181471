using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Xares.Broker.Tests.Support;
using Xares.DevGitServer.GitHub;

namespace Xares.Broker.Tests.Minted;

/// <summary>An in-process broker allowed to reach loopback, the GitHub API stand-in, and one app key the stand-in knows.</summary>
public abstract class MintedTestHost : IAsyncLifetime
{
    internal const string AppId = "31337";
    internal const long InstallationId = 555;
    internal const string GitHost = "git.acme.test";

    private protected BrokerTestHost Host { get; private set; } = null!;

    private protected GitHubApiStandIn GitHub { get; private set; } = null!;

    private protected RSA AppKey { get; } = RSA.Create(2048);

    private protected string Alice { get; private set; } = null!;

    /// <summary>How long before expiry a minted token stops being reused (the broker's option).</summary>
    private protected virtual TimeSpan ReuseMargin => TimeSpan.FromMinutes(5);

    public async Task InitializeAsync()
    {
        GitHub = await GitHubApiStandIn.StartAsync();
        var verifying = RSA.Create();
        verifying.ImportSubjectPublicKeyInfo(AppKey.ExportSubjectPublicKeyInfo(), out _);
        GitHub.AddApp(AppId, verifying);
        GitHub.AddInstallation(new StandInInstallation(InstallationId, AppId, "acme", ["app", "lib", "docs"]));
        Host = await BrokerTestHost.StartAsync(o => o with { OutboundAllow = ["127.0.0.1"], MintedReuseMargin = ReuseMargin });
        Alice = await Host.CreateUserAsync("alice");
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await GitHub.DisposeAsync();
        AppKey.Dispose();
    }

    private protected async Task<HttpResponseMessage> RegisterAsync(object body) => await Host.Admin.PostAsJsonAsync("/api/v1/github-apps", body);

    /// <summary>Registers the app (serving https://git.acme.test) and returns its id.</summary>
    private protected async Task<string> RegisterAppAsync(string? apiUrl = null, string appId = AppId)
    {
        var response = await RegisterAsync(new { name = "acme", appId, privateKey = AppKey.ExportRSAPrivateKeyPem(), apiUrl = apiUrl ?? GitHub.Origin, gitUrl = $"https://{GitHost}" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonSerializer.Deserialize<JsonElement>(text).GetProperty("id").GetString()!;
    }

    private protected static object Repo(string name, string access = "write") => new { host = GitHost, name, access };

    private protected async Task<SidecarClient> WorkspaceAsync(params object[] repositories) =>
        await (await SidecarClient.CreateWorkspaceAsync(Host, Alice, repositories: repositories)).OpenAsync();

    private protected async Task<List<JsonElement>> AuditAsync(string action, string? workspaceId = null)
    {
        var body = await Host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/audit?action={action}&limit=500" + (workspaceId is null ? "" : $"&workspaceId={workspaceId}"));
        return body.GetProperty("items").EnumerateArray().ToList();
    }

    private protected long Count(string table)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Host.DatabasePath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }
}
