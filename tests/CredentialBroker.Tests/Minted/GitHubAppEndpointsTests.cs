using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Tests.Credentials;

namespace Xares.Broker.Tests.Minted;

public sealed class GitHubAppEndpointsTests : MintedTestHost
{
    [Fact]
    public async Task Register_MalformedPem_400NamingPrivateKeyAndNothingStored()
    {
        var response = await RegisterAsync(new
        {
            name = "acme", appId = 1, privateKey = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----", apiUrl = GitHub.Origin,
            gitUrl = $"https://{GitHost}",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors");
        Assert.Contains("PEM RSA private key", errors.GetProperty("privateKey")[0].GetString(), StringComparison.Ordinal);
        Assert.Single(errors.EnumerateObject());
        Assert.Equal(0, Count("github_apps"));
        Assert.Empty(await AuditAsync("github_app.register"));
    }

    [Fact]
    public async Task Register_UnpairedSurrogatesInAppIdAndOwner_400NamingThemAndNothingStored()
    {
        // Escapes with no UTF-16 text behind them: refused as not being strings, not a 500.
        var json = $$"""
            {"name":"acme","appId":"\ud800","privateKey":{{JsonSerializer.Serialize(AppKey.ExportRSAPrivateKeyPem())}},"apiUrl":"{{GitHub.Origin}}",
             "gitUrl":"https://{{GitHost}}","installations":[{"owner":"\udc00","installationId":1}]}
            """;

        var problem = await (await Host.Admin.SendRawAsync(HttpMethod.Post, "/api/v1/github-apps", json)).ProblemAsync(400, "validation");

        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("appId", out _), problem.ToString());
        Assert.True(errors.TryGetProperty("installations[0]", out _), problem.ToString());
        Assert.Equal(0, Count("github_apps"));
    }

    [Fact]
    public async Task Register_PublicKeyInsteadOfPrivate_400()
    {
        var response = await RegisterAsync(new { name = "acme", appId = 1, privateKey = AppKey.ExportSubjectPublicKeyInfoPem(), apiUrl = GitHub.Origin });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("privateKey", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, Count("github_apps"));
    }

    [Fact]
    public async Task Register_GetListAndAudit_NeverShowTheKey()
    {
        var id = await RegisterAppAsync();
        var pem = AppKey.ExportRSAPrivateKeyPem();
        var keyBody = pem.Split('\n')[1];

        var single = await Host.Admin.GetStringAsync($"/api/v1/github-apps/{id}");
        var list = await Host.Admin.GetStringAsync("/api/v1/github-apps");
        var audit = await Host.Admin.GetStringAsync("/api/v1/audit?action=github_app.register");

        var app = JsonSerializer.Deserialize<JsonElement>(single);
        Assert.Equal(AppId, app.GetProperty("appId").GetString());
        Assert.Equal($"https://{GitHost}", app.GetProperty("gitUrl").GetString());
        Assert.StartsWith("SHA256:", app.GetProperty("keyFingerprint").GetString(), StringComparison.Ordinal);
        Assert.Contains(id, list, StringComparison.Ordinal);
        Assert.Contains(id, audit, StringComparison.Ordinal);
        foreach (var text in new[] { single, list, audit })
        {
            Assert.DoesNotContain(keyBody, text, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
        }
        // Nor on disk in the clear: the database holds it sealed.
        Assert.DoesNotContain(keyBody, await ReadAllAsync(Host.DatabasePath) + await ReadAllAsync(Host.DatabasePath + "-wal"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_EnterpriseServerApiUrl_GitUrlDerived_SecondAppForSameHost409()
    {
        var response = await RegisterAsync(new { name = "ghes", appId = "9", privateKey = AppKey.ExportRSAPrivateKeyPem(), apiUrl = "https://ghe.example.test/api/v3/" });
        var app = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("https://ghe.example.test/api/v3", app.GetProperty("apiUrl").GetString());
        Assert.Equal("https://ghe.example.test", app.GetProperty("gitUrl").GetString());

        var again = await RegisterAsync(new { name = "ghes2", appId = "10", privateKey = AppKey.ExportRSAPrivateKeyPem(), apiUrl = "https://ghe.example.test/api/v3" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Register_OtherApiUrlWithoutGitUrl_400NamingGitUrl()
    {
        var response = await RegisterAsync(new { name = "x", appId = 3, privateKey = AppKey.ExportRSAPrivateKeyPem(), apiUrl = "https://api.example.test/rest" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("gitUrl", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Installations_ListedFromGitHub()
    {
        var id = await RegisterAppAsync();
        var body = await Host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/github-apps/{id}/installations");
        var installation = Assert.Single(body.GetProperty("items").EnumerateArray());
        Assert.Equal(InstallationId, installation.GetProperty("id").GetInt64());
        Assert.Equal("acme", installation.GetProperty("account").GetString());
    }

    [Fact]
    public async Task Workspace_BadRepositories_400NamingTheEntry()
    {
        var response = await Host.Admin.PostAsJsonAsync("/api/v1/workspaces", new
        {
            userId = Alice, name = "ws", repositories = new object[] { new { host = GitHost, name = "acme/app", access = "write" }, new { host = GitHost, name = "../x", access = "read" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("repositories[1].name", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<string> ReadAllAsync(string path)
    {
        if (!File.Exists(path))
        {
            return "";
        }
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
        return await reader.ReadToEndAsync();
    }
}
