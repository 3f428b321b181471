using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// The paged REST listings (credentials, also per user, workspaces, users, API keys, leases) on SQLite and
/// PostgreSQL: every row once, in listing order, across pages of any size.
/// </summary>
public abstract class ListingContractTests(StorageBackend backend)
{
    [Fact]
    public async Task CredentialListing_PagedWithAndWithoutFilters_EveryMatchOnceInOrder()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var (ann, ben) = (await broker.CreateUserAsync("ann"), await broker.CreateUserAsync("ben"));
        var (expiring, annsIds) = (new HashSet<string>(), new HashSet<string>());
        for (var i = 0; i < 7; i++)
        {
            var owner = i % 2 == 0 ? ann : ben;
            object body = i % 3 == 0
                ? new { kind = "git", provider = "generic", url = $"https://git.example.com/r{i}", username = "u", secret = $"tok_listing_00000000{i}", expiresAt = DateTimeOffset.UtcNow.AddDays(2) }
                : new { kind = "ai", provider = "openai", secret = $"sk-listing-00000000{i}" };
            var response = await broker.Admin.PostAsJsonAsync($"/api/v1/users/{owner}/credentials", body);
            var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            if (i % 3 == 0)
            {
                expiring.Add(id);
            }
            if (owner == ann)
            {
                annsIds.Add(id);
            }
        }
        // Listing order is (created_at, id): credentials created in the same millisecond are in id order.
        var everything = await PageIds(broker, "/api/v1/credentials?limit=1000");
        Assert.Equal(7, everything.Pages.Single().Count);

        Assert.Equal([3, 3, 1], (await PageIds(broker, "/api/v1/credentials?limit=3")).Pages.Select(p => p.Count));
        Assert.Equal(everything.Ids, (await PageIds(broker, "/api/v1/credentials?limit=3")).Ids);
        Assert.Equal(everything.Ids, (await PageIds(broker, "/api/v1/credentials?limit=7")).Ids);
        Assert.Equal(everything.Ids.Where(expiring.Contains), (await PageIds(broker, "/api/v1/credentials?status=expiring&limit=1")).Ids);
        var anns = await PageIds(broker, $"/api/v1/credentials?userId={ann}&limit=2");
        Assert.Equal(everything.Ids.Where(annsIds.Contains), anns.Ids);
        Assert.Equal([2, 2], anns.Pages.Select(p => p.Count));
        // The per-user listing pages the same way (it once ignored limit and cursor).
        var annsOwn = await PageIds(broker, $"/api/v1/users/{ann}/credentials?limit=3");
        Assert.Equal(anns.Ids, annsOwn.Ids);
        Assert.Equal([3, 1], annsOwn.Pages.Select(p => p.Count));
    }

    [Fact]
    public async Task WorkspaceUserAndApiKeyListings_PagedForEveryoneAndPerUser_EveryRowOnceInOrder()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var (ann, ben) = (await broker.CreateUserAsync("ann"), await broker.CreateUserAsync("ben"));
        var annsIds = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            var owner = i % 2 == 0 ? ann : ben;
            var created = await broker.Admin.PostAsJsonAsync("/api/v1/workspaces", new { userId = owner, name = $"w{i}" });
            var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            if (owner == ann)
            {
                annsIds.Add(id);
            }
        }
        var everything = await PageIds(broker, "/api/v1/workspaces?limit=1000");
        Assert.Equal(5, everything.Ids.Count);

        var byTwo = await PageIds(broker, "/api/v1/workspaces?limit=2");
        Assert.Equal(everything.Ids, byTwo.Ids);
        Assert.Equal([2, 2, 1], byTwo.Pages.Select(p => p.Count));
        Assert.Equal(everything.Ids.Where(annsIds.Contains), (await PageIds(broker, $"/api/v1/workspaces?userId={ann}&limit=1")).Ids);
        var users = await PageIds(broker, "/api/v1/users?limit=1");
        Assert.Equal((await PageIds(broker, "/api/v1/users?limit=1000")).Ids, users.Ids);
        Assert.Equal(new[] { ann, ben }.Order(), users.Ids.Order());
        Assert.Equal([1, 1], users.Pages.Select(p => p.Count));
        for (var i = 0; i < 4; i++)
        {
            (await broker.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = $"k{i}", scopes = new[] { "audit:read" } })).EnsureSuccessStatusCode();
        }
        var keys = await PageIds(broker, "/api/v1/api-keys?limit=2");
        Assert.Equal((await PageIds(broker, "/api/v1/api-keys?limit=1000")).Ids, keys.Ids);
        Assert.Equal([2, 2, 1], keys.Pages.Select(p => p.Count)); // the initial admin key and four more
    }

    [Fact]
    public async Task WorkspaceListing_ActiveSessionsPerWorkspace_OnEveryPageAndInGet()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var user = await broker.CreateUserAsync("sam");
        var open = await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync();
        var idle = await SidecarClient.CreateWorkspaceAsync(broker, user);
        var rebootstrapped = await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync();
        var minted = JsonDocument.Parse(await (await broker.Admin.PostAsync($"/api/v1/workspaces/{rebootstrapped.WorkspaceId}/bootstrap", null)).Content.ReadAsStringAsync());
        var replacement = await new SidecarClient(broker, rebootstrapped.WorkspaceId, minted.RootElement.GetProperty("bootstrapToken").GetString()!).OpenAsync();

        var expected = new Dictionary<string, string[]>
        {
            [open.WorkspaceId] = [open.Grant!.SessionId],
            [idle.WorkspaceId] = [],
            [rebootstrapped.WorkspaceId] = [replacement.Grant!.SessionId], // the first session ended with the re-bootstrap
        };
        var listed = new Dictionary<string, string[]>();
        string? cursor = null;
        do
        {
            var page = JsonDocument.Parse(await broker.Admin.GetStringAsync($"/api/v1/workspaces?limit=2{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}")).RootElement;
            foreach (var workspace in page.GetProperty("items").EnumerateArray())
            {
                listed[workspace.GetProperty("id").GetString()!] = ActiveSessionIds(workspace);
            }
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(expected, listed);
        var single = JsonDocument.Parse(await broker.Admin.GetStringAsync($"/api/v1/workspaces/{rebootstrapped.WorkspaceId}")).RootElement;
        Assert.Equal(expected[rebootstrapped.WorkspaceId], ActiveSessionIds(single));

        static string[] ActiveSessionIds(JsonElement workspace) =>
            [.. workspace.GetProperty("activeSessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()!)];
    }

    [Fact]
    public async Task LeaseListing_PagedNewestFirst_EveryLeaseOnceLiveOnesUnlessEndedAsked()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var user = await broker.CreateUserAsync("lee");
        await broker.CreateGitCredentialAsync(user, "https://git.example.com", "bot", "tok_listing_0123456789");
        var (first, second) = (await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync(), await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync());
        var issued = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            issued.Add((await (i % 2 == 0 ? first : second).GetAsync("https", "git.example.com")).Lease.LeaseId);
        }
        foreach (var revoked in new[] { issued[1], issued[4] })
        {
            (await broker.Admin.DeleteAsync($"/api/v1/leases/{revoked}")).EnsureSuccessStatusCode();
        }

        var everything = await PageIds(broker, "/api/v1/leases?includeEnded=true&limit=1000");
        Assert.Equal(issued.Order(), everything.Ids.Order());
        Assert.Equal(issued[^1], everything.Ids[0]); // newest first
        var byThree = await PageIds(broker, "/api/v1/leases?includeEnded=true&limit=3");
        Assert.Equal(everything.Ids, byThree.Ids);
        Assert.Equal([3, 3, 1], byThree.Pages.Select(p => p.Count));
        Assert.Equal(everything.Ids.Where(id => id != issued[1] && id != issued[4]), (await PageIds(broker, "/api/v1/leases?limit=2")).Ids);
        Assert.Equal(everything.Ids.Where((id, i) => issued.IndexOf(id) % 2 == 0), (await PageIds(broker, $"/api/v1/leases?workspaceId={first.WorkspaceId}&includeEnded=true&limit=1")).Ids);
        // A cursor of another listing, and a limit out of range, are refused with the field named.
        var workspaceCursor = JsonDocument.Parse(await broker.Admin.GetStringAsync("/api/v1/workspaces?limit=1")).RootElement.GetProperty("nextCursor").GetString();
        foreach (var (query, field) in new[] { ($"cursor={Uri.EscapeDataString(workspaceCursor!)}", "cursor"), ("limit=0", "limit"), ("limit=many", "limit") })
        {
            var refused = await broker.Admin.GetAsync($"/api/v1/leases?{query}");
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True(JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty(field, out var named) && named.GetArrayLength() > 0, query);
        }
    }

    /// <summary>Follows nextCursor from <paramref name="url"/> to the last page.</summary>
    private static async Task<(List<string> Ids, List<List<string>> Pages)> PageIds(BrokerTestHost broker, string url)
    {
        var pages = new List<List<string>>();
        var next = url;
        while (next is not null)
        {
            var page = JsonDocument.Parse(await broker.Admin.GetStringAsync(next)).RootElement;
            pages.Add(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList());
            var cursor = page.GetProperty("nextCursor");
            next = cursor.ValueKind == JsonValueKind.Null ? null : $"{url}&cursor={Uri.EscapeDataString(cursor.GetString()!)}";
            Assert.True(pages.Count <= 10, "the cursor does not advance");
        }
        return (pages.SelectMany(p => p).ToList(), pages);
    }
}

public sealed class SqliteListingContractTests() : ListingContractTests(new SqliteBackend());

public sealed class PostgresListingContractTests() : ListingContractTests(new PostgresBackend());
