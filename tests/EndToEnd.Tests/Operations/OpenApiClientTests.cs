using System.Net.Http.Headers;
using System.Text.Json;
using Xares.EndToEnd.Tests.Flows;
using Xares.EndToEnd.Tests.Generated;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Operations;

/// <summary>
/// The REST contract as a client generator sees it: the published broker's live OpenAPI document
/// passes an OpenAPI 3.1 schema validator and is docs/openapi.json, and the NSwag client generated
/// from that file at build time drives a real broker: create, page, delete, typed problems.
/// </summary>
public sealed class OpenApiClientTests : IAsyncLifetime
{
    private readonly ScratchDirectory directory = ScratchDirectory.Create("xe-openapi-");
    private BrokerProcess broker = null!;

    public async Task InitializeAsync() => broker = await BrokerProcess.StartAsync(directory);

    public async Task DisposeAsync()
    {
        await broker.DisposeAsync();
        directory.Dispose();
    }

    [Fact]
    public async Task LiveDocument_ValidatesAsOpenApi31_AndIsTheCommittedOne()
    {
        var validator = Path.Combine(AiFixture.NodeDirectory, "node_modules", "@seriousme", "openapi-schema-validator");
        Assert.True(Directory.Exists(validator), $"{validator} is missing: run scripts/setup-node-sdks.sh.");
        using var http = new HttpClient();
        var live = await http.GetStringAsync($"{broker.RestUrl}/openapi/v1.json");
        var file = Path.Combine(directory.Path, "openapi.json");
        await File.WriteAllTextAsync(file, live);

        var result = await ProcessRunner.RunAsync("node", [Path.Combine(AiFixture.NodeDirectory, "validate-openapi.mjs"), file],
            ProcessRunner.BaseEnvironment(directory.Sub("home")), Path.Combine(directory.Logs, "validate-openapi.log"), AiFixture.NodeDirectory);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal("3.1", JsonDocument.Parse(result.Stdout).RootElement.GetProperty("version").GetString());
        Assert.Equal((await File.ReadAllTextAsync(Path.Combine(Artifacts.RepositoryRoot, "docs", "openapi.json"))).TrimEnd('\n'), live);
    }

    [Fact]
    public async Task GeneratedClient_CreatesPagesAndDeletes_ProblemsAreTyped()
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", broker.AdminKey);
        var client = new BrokerApiClient(broker.RestUrl, http);

        var user = await client.CreateUserAsync(new CreateUserRequest { Name = "ann" });
        var created = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var credential = await client.CreateUserCredentialAsync(user.Id, new CreateCredentialRequest
            {
                Kind = "git", Provider = "generic", Url = $"https://git.example.com/team{i}", Username = "ann", Secret = TestSecrets.NewToken(),
            });
            created.Add(credential.Id);
        }
        var first = await client.ListUserCredentialsAsync(user.Id, limit: 2);
        var second = await client.ListUserCredentialsAsync(user.Id, limit: 2, cursor: first.NextCursor);

        Assert.Equal(2, first.Items.Count);
        Assert.Null(second.NextCursor);
        Assert.Equal(created.Order(), first.Items.Concat(second.Items).Select(c => c.Id).Order());

        await client.DeleteCredentialAsync(created[0]);
        var missing = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => client.GetCredentialAsync(created[0]));
        Assert.Equal(404, missing.StatusCode);
        Assert.Equal("/docs/errors#not-found", missing.Result.Type);
        Assert.False(string.IsNullOrEmpty(missing.Result.RequestId));
        // The type, resolved against the broker, is its errors page, which has that section.
        var page = await http.GetStringAsync(new Uri(new Uri(broker.RestUrl), missing.Result.Type));
        Assert.Contains("id=\"not-found\"", page, StringComparison.Ordinal);

        var invalid = await Assert.ThrowsAsync<ApiException<HttpValidationProblemDetails>>(() => client.ListUserCredentialsAsync(user.Id, cursor: "not-a-cursor"));
        Assert.Equal(400, invalid.StatusCode);
        Assert.Contains("cursor", invalid.Result.Errors.Keys);

        await client.DeleteUserAsync(user.Id);
        Assert.Equal(404, (await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => client.GetUserAsync(user.Id))).StatusCode);
    }
}
