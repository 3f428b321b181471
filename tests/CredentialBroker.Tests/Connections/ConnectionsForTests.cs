using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Connections;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Connections;

/// <summary>A pending connection written straight to the database (no provider to call in process).</summary>
internal static class ConnectionsForTests
{
    public static async Task<string> SeedPendingAsync(BrokerTestHost host, string userId)
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        using var response = await host.Admin.PostAsJsonAsync("/api/v1/oauth-providers", new
        {
            name = "p" + suffix, kind = "gitlab", baseUrl = $"https://{suffix}.matrix.test", clientId = "c", clientSecret = "matrix-client-secret",
        });
        response.EnsureSuccessStatusCode();
        var providerId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var id = "conn_" + suffix;
        var now = DateTimeOffset.UtcNow;
        var sealedCode = TokenPair.SealText(host.Get<Keyring>(), "device-code-" + suffix, ConnectionRecord.DeviceContextFor(id, userId, providerId));
        // A far-off next poll: the poller leaves it alone.
        var row = new ConnectionRecord(id, providerId, userId, null, ConnectionStatus.Pending, "ABCD-EFGH", "https://x.matrix.test/device", null,
            now.AddHours(1), TimeSpan.FromSeconds(5), now.AddHours(1), sealedCode, 0, null, null, false, null, 0, null, null, now, null, null);
        await host.Get<WriteQueue>().ExecuteAsync((c, t) => ConnectionStore.InsertPending(c, t, row));
        return id;
    }
}
