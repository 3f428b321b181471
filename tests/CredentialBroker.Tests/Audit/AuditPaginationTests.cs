using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Audit;

public sealed class AuditPaginationTests
{
    private static readonly string[] ItemFields =
        ["sequence", "at", "action", "outcome", "actor", "userId", "workspaceId", "credentialId", "leaseId", "remoteAddress", "detail"];

    [Fact]
    public async Task Query_CursorPages_WalkTheWholeLogWithoutGapsOrDuplicates()
    {
        await using var host = await BrokerTestHost.StartAsync();
        for (var i = 0; i < 11; i++)
        {
            await host.CreateUserAsync($"u{i}");
        }
        var all = await (await host.Admin.GetAsync("/api/v1/audit?limit=1000")).JsonAsync(200);

        var (walked, pages) = await WalkAsync(host.Admin, "/api/v1/audit?limit=5", afterFirstPage: () => host.CreateUserAsync("late"));

        var expected = all.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(12, expected.Count); // the initial admin key, then eleven users
        Assert.True(all.IsNull("nextCursor"));
        // A record appended after the first page is newer than every cursor: the walk is unaffected.
        Assert.Equal(expected, walked.Select(i => i.GetProperty("sequence").GetInt64()));
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task Query_CursorWithFilters_PagesOnlyMatchingRecords()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        for (var i = 0; i < 4; i++)
        {
            await host.CreateGitCredentialAsync(alice, $"https://github.com/o/r{i}", "u", $"ghp_PageSecret00000000000{i}");
            await host.CreateUserAsync($"other{i}");
        }

        var (walked, pages) = await WalkAsync(host.Admin, $"/api/v1/audit?userId={alice}&action=credential.create&limit=3");

        Assert.Equal(2, pages);
        Assert.Equal(4, walked.Count);
        Assert.All(walked, i => Assert.Equal("credential.create", i.Str("action")));
        Assert.Equal(walked.Select(i => i.GetProperty("sequence").GetInt64()).OrderDescending(), walked.Select(i => i.GetProperty("sequence").GetInt64()));
    }

    [Fact]
    public async Task Query_ExactlyOnePageOfRecords_HasNoNextCursor()
    {
        await using var host = await BrokerTestHost.StartAsync();
        await host.CreateUserAsync("a");

        var body = await (await host.Admin.GetAsync("/api/v1/audit?limit=2")).JsonAsync(200);

        Assert.Equal(2, body.GetProperty("items").GetArrayLength());
        Assert.True(body.IsNull("nextCursor"));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("AAAAAAAAAAA")]   // sequence 0
    [InlineData("AAAAAAAAAAF")]   // a non-canonical spelling of sequence 1
    [InlineData("AAAAAAAAAAE=")]  // padded
    [InlineData("_____________")] // too long
    [InlineData("gAAAAAAAAAA")]   // negative
    [InlineData("AAAAAAAA%2BAE")] // '+' is base64, not base64url
    [InlineData("AAAAAAAA%20AE")] // whitespace the decoder would skip
    [InlineData("%27%20OR%201%3D1--")]
    public async Task Query_BadCursor_Returns400(string cursor)
    {
        await using var host = await BrokerTestHost.StartAsync();

        var problem = await (await host.Admin.GetAsync($"/api/v1/audit?cursor={cursor}")).ProblemAsync(400, "validation");

        Assert.True(problem.GetProperty("errors").TryGetProperty("cursor", out _));
    }

    [Fact]
    public async Task Export_ReturnsEveryRecordOldestFirst_MatchingTheQueryAndTheChain()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var credential = await host.CreateGitCredentialAsync(alice, "https://github.com/a", "u", "ghp_ExportSecret0000000001");
        await host.Admin.PatchJsonAsync($"/api/v1/credentials/{credential}", new { name = "renamed" });
        await host.CreateUserAsync("bob");

        using var response = await host.Admin.GetAsync("/api/v1/audit/export");
        var text = await response.Content.ReadAsStringAsync();
        var lines = ParseLines(response, text);
        var query = (await (await host.Admin.GetAsync("/api/v1/audit?limit=1000")).JsonAsync(200)).GetProperty("items").EnumerateArray().Reverse().ToList();

        Assert.DoesNotContain("ghp_ExportSecret0000000001", text, StringComparison.Ordinal);
        Assert.Equal(query.Count, lines.Count);
        Assert.Equal(Enumerable.Range(1, lines.Count).Select(i => (long)i), lines.Select(l => l.GetProperty("sequence").GetInt64()));
        foreach (var (line, item) in lines.Zip(query))
        {
            foreach (var field in ItemFields)
            {
                Assert.Equal(item.GetProperty(field).GetRawText(), line.GetProperty(field).GetRawText());
            }
        }
        AssertChainVerifies(host.Get<Keyring>(), lines);
    }

    [Fact]
    public async Task Export_ReadInSmallPages_IsTheSameAsOneRead()
    {
        await using var host = await BrokerTestHost.StartAsync();
        for (var i = 0; i < 6; i++)
        {
            await host.CreateUserAsync($"u{i}");
        }
        var query = AuditQuery.Parse(new AuditExportParameters(null, null, null, null, null).AsQuery());
        var options = host.Get<IOptions<JsonOptions>>().Value.SerializerOptions;

        async Task<string> ExportAsync(int pageSize)
        {
            using var body = new MemoryStream();
            await AuditExport.WriteAsync(body, query, host.Get<Database>(), options, pageSize, CancellationToken.None);
            return Encoding.UTF8.GetString(body.ToArray());
        }
        var byTwo = await ExportAsync(2);     // pages of 2, 2, 2 and a short last one
        var byOne = await ExportAsync(1);
        var whole = await ExportAsync(1000);

        Assert.Equal(7, whole.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(whole, byTwo);
        Assert.Equal(whole, byOne);
    }

    [Fact]
    public async Task Export_Filters_MatchTheQuery()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        await host.CreateGitCredentialAsync(alice, "https://github.com/a", "u", "ghp_FilterSecret0000000001");
        await host.CreateGitCredentialAsync(bob, "https://github.com/b", "u", "ghp_FilterSecret0000000002");

        foreach (var filter in new[] { $"userId={bob}", "action=credential.create", $"userId={alice}&action=user.create", "since=2999-01-01T00:00:00Z" })
        {
            using var response = await host.Admin.GetAsync($"/api/v1/audit/export?{filter}");
            var lines = ParseLines(response, await response.Content.ReadAsStringAsync());
            var query = (await (await host.Admin.GetAsync($"/api/v1/audit?{filter}")).JsonAsync(200)).GetProperty("items").EnumerateArray().Reverse();

            Assert.Equal(query.Select(i => i.GetProperty("sequence").GetInt64()), lines.Select(l => l.GetProperty("sequence").GetInt64()));
        }
        await (await host.Admin.GetAsync("/api/v1/audit/export?since=yesterday")).ProblemAsync(400, "validation");
    }

    [Fact]
    public async Task QueryAndExport_UserBoundKey_SeeOnlyItsUsersRecords()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        for (var i = 0; i < 3; i++)
        {
            await host.CreateGitCredentialAsync(alice, $"https://github.com/a{i}", "u", $"ghp_BoundSecretAlice00000{i}");
            await host.CreateGitCredentialAsync(bob, $"https://github.com/b{i}", "u", $"ghp_BoundSecretBob0000000{i}");
        }
        using var aliceClient = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.AuditRead], alice));

        var (walked, _) = await WalkAsync(aliceClient, "/api/v1/audit?limit=2");
        var (asAdmin, _) = await WalkAsync(host.Admin, $"/api/v1/audit?userId={alice}&limit=1000");
        using var response = await aliceClient.GetAsync("/api/v1/audit/export");
        var lines = ParseLines(response, await response.Content.ReadAsStringAsync());
        await (await aliceClient.GetAsync($"/api/v1/audit/export?userId={bob}")).ProblemAsync(404);
        await (await aliceClient.GetAsync($"/api/v1/audit?userId={bob}&cursor=AAAAAAAAAGQ")).ProblemAsync(404);

        Assert.True(walked.Count >= 4); // user.create and three credential.create at least
        Assert.Equal(asAdmin.Select(i => i.GetProperty("sequence").GetInt64()), walked.Select(i => i.GetProperty("sequence").GetInt64()));
        Assert.All(walked, i => Assert.Equal(alice, i.Str("userId")));
        Assert.Equal(walked.Select(i => i.GetProperty("sequence").GetInt64()).Reverse(), lines.Select(l => l.GetProperty("sequence").GetInt64()));
        Assert.All(lines, l => Assert.Equal(alice, l.Str("userId")));
    }

    [Fact]
    public async Task Export_KeyWithoutAuditRead_Returns403()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var client = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.UsersRead], null));
        using var anonymous = host.CreateClient(null);

        await (await client.GetAsync("/api/v1/audit/export")).ProblemAsync(403);
        Assert.Equal(401, (int)(await anonymous.GetAsync("/api/v1/audit/export")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_DescribesExportAndCursor()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var anonymous = host.CreateClient(null);

        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));

        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.GetProperty("/api/v1/audit/export").GetProperty("get").GetProperty("responses").GetProperty("200")
            .GetProperty("content").TryGetProperty(AuditExport.ContentType, out _));
        Assert.Contains(paths.GetProperty("/api/v1/audit").GetProperty("get").GetProperty("parameters").EnumerateArray(), p => string.Equals(p.Str("name"), "cursor", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Follows nextCursor to the end; returns every item and how many pages it took.</summary>
    private static async Task<(List<JsonElement> Items, int Pages)> WalkAsync(HttpClient client, string url, Func<Task>? afterFirstPage = null)
    {
        var items = new List<JsonElement>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await (await client.GetAsync(cursor is null ? url : $"{url}&cursor={Uri.EscapeDataString(cursor)}")).JsonAsync(200);
            pages++;
            items.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.IsNull("nextCursor") ? null : page.Str("nextCursor");
            if (pages == 1 && afterFirstPage is not null)
            {
                await afterFirstPage();
            }
            Assert.True(pages < 100, "the walk does not end");
        }
        while (cursor is not null);
        Assert.Equal(items.Count, items.Select(i => i.GetProperty("sequence").GetInt64()).Distinct().Count());
        return (items, pages);
    }

    private static List<JsonElement> ParseLines(HttpResponseMessage response, string text)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal(AuditExport.ContentType, response.Content.Headers.ContentType?.MediaType);
        Assert.True(text.Length == 0 || text.EndsWith('\n'), "every line ends with a newline");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    // What an offline verifier does with a whole-log export and the audit key.
    private static void AssertChainVerifies(Keyring keyring, List<JsonElement> lines)
    {
        var previousMac = Array.Empty<byte>();
        foreach (var l in lines)
        {
            string? Opt(string name) => l.GetProperty(name).ValueKind == JsonValueKind.Null ? null : l.GetProperty(name).GetString();
            var record = new AuditRecord(l.GetProperty("sequence").GetInt64(), l.GetProperty("at").GetDateTimeOffset(), l.Str("action"), l.Str("outcome"),
                Opt("actor"), Opt("userId"), Opt("workspaceId"), Opt("credentialId"), Opt("leaseId"), Opt("remoteAddress"), Opt("detail"), l.GetProperty("keyVersion").GetInt32());
            var mac = Convert.FromBase64String(l.Str("mac"));
            Assert.Equal(HMACSHA256.HashData(keyring.AuditKey(record.KeyVersion), record.ChainInput(previousMac)), mac);
            previousMac = mac;
        }
    }
}
