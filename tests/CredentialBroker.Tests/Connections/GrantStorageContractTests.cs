using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Connections;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Connections;

/// <summary>Storing granted tokens (ConnectionLifecycle.StoreGranted): a browser grant's new row, a reconnect's replaced tokens, on SQLite and PostgreSQL.</summary>
public abstract class GrantStorageContractTests(StorageBackend backend)
{
    [Fact]
    public async Task StoreGranted_NewRowThenReconnect_ActiveAtTheNextVersion_TokensSealedToIt_AndAStaleReconnectWritesNothing()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var userId = await IdOfAsync(await broker.Admin.PostAsJsonAsync("/api/v1/users", new { name = "Ann", email = "ann@example.test" }));
        var providerId = await IdOfAsync(await broker.Admin.PostAsJsonAsync("/api/v1/oauth-providers", new
        {
            name = "forge", kind = "generic", authorizeUrl = "https://idp.example.test/authorize", tokenUrl = "https://idp.example.test/token",
            clientId = "xares", clientSecret = "client-secret", gitUrl = "https://git.example.test",
        }));
        var writes = broker.Get<WriteQueue>();
        var database = broker.Get<Database>();
        var lifecycle = broker.Get<ConnectionLifecycle>();
        var keyring = broker.Get<Keyring>();
        var provider = (await database.ReadAsync(c => OAuthProviderStore.Find(c, null, providerId)))!;
        var now = DateTimeOffset.UtcNow;

        var id = await writes.ExecuteAsync((c, t) =>
        {
            ConnectionStore.InsertForGrant(c, t, "conn_grant1", providerId, userId, now);
            var row = ConnectionStore.Find(c, t, "conn_grant1")!;
            Assert.True(lifecycle.StoreGranted(c, t, row, ConnectionStatus.Pending, provider, new TokenPair("access-1", "refresh-1"), TimeSpan.FromHours(1),
                "web-ui:" + userId, "127.0.0.1", now));
            return row.Id;
        });
        var first = (await database.ReadAsync(c => ConnectionStore.Find(c, null, id)))!;
        Assert.Equal(ConnectionStatus.Active, first.Status);
        Assert.Equal(1, first.TokenVersion);
        Assert.True(first.HasRefreshToken);
        Assert.Null(first.NextPollAt);
        Assert.Equal("access-1", TokenPair.Open(keyring, first.SealedTokens!, first.TokensContext).AccessToken);

        await writes.ExecuteAsync((c, t) => Assert.True(ConnectionStore.MarkReconnectRequired(c, t, id, 1, "invalid_grant")));
        var stale = (await database.ReadAsync(c => ConnectionStore.Find(c, null, id)))!;
        Assert.True(await writes.ExecuteAsync((c, t) => lifecycle.StoreGranted(c, t, stale, ConnectionStatus.ReconnectRequired, provider,
            new TokenPair("access-2", null), null, "web-ui:" + userId, null, now)));
        var second = (await database.ReadAsync(c => ConnectionStore.Find(c, null, id)))!;
        Assert.Equal(ConnectionStatus.Active, second.Status);
        Assert.Equal(2, second.TokenVersion);
        Assert.Null(second.LastError);
        Assert.Null(second.AccessExpiresAt);
        Assert.Equal("access-2", TokenPair.Open(keyring, second.SealedTokens!, second.TokensContext).AccessToken);
        Assert.Throws<SecretIntegrityException>(() => TokenPair.Open(keyring, first.SealedTokens!, second.TokensContext)); // the old pair does not fit version 2

        // The same reconnect again (the row is active now): nothing written.
        Assert.False(await writes.ExecuteAsync((c, t) => lifecycle.StoreGranted(c, t, stale, ConnectionStatus.ReconnectRequired, provider,
            new TokenPair("access-3", null), null, "web-ui:" + userId, null, now)));
        Assert.Equal(2, (await database.ReadAsync(c => ConnectionStore.Find(c, null, id)))!.TokenVersion);
    }

    private static async Task<string> IdOfAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }
}

public sealed class SqliteGrantStorageContractTests() : GrantStorageContractTests(new SqliteBackend());

public sealed class PostgresGrantStorageContractTests() : GrantStorageContractTests(new PostgresBackend());
