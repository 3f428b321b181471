using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Api;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.WebUi;

/// <summary>UI sessions and the DataProtection key ring in the database, shared by replicas, on SQLite and PostgreSQL.</summary>
public abstract class UiSessionStoreContractTests(StorageBackend backend)
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task Store_NewIdEverySignIn_ReadByAnotherReplica_RowHoldsNeitherIdNorClaims()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var (a, b) = (db.AddReplica(), db.AddReplica());
        await AddUserAsync(a, "usr_ann");
        var (storeA, storeB) = (Store(a), Store(b));

        var first = await storeA.StoreAsync(Ticket("usr_ann"));
        var second = await storeA.StoreAsync(Ticket("usr_ann"));

        Assert.NotEqual(first, second);
        Assert.Equal(43, first.Length); // 32 random bytes, base64url
        var seen = await storeB.RetrieveAsync(first);
        Assert.Equal("usr_ann", seen?.Principal.FindFirstValue(CallerClaims.UserId));
        Assert.Equal("Ann Secretname", seen?.Principal.FindFirstValue(SignedInUserResolver.NameClaim));
        var rows = await a.Database.ReadAsync(c => Sql.Query(c, null, "SELECT id_hash, ticket FROM ui_sessions", r => ((byte[])r.GetValue(0), (byte[])r.GetValue(1))));
        Assert.Equal(2, rows.Count);
        foreach (var (hash, ticket) in rows)
        {
            Assert.Equal(32, hash.Length);
            Assert.DoesNotContain(first, Encoding.Latin1.GetString(hash), StringComparison.Ordinal);
            var clear = Encoding.Latin1.GetString(ticket) + Encoding.Unicode.GetString(ticket);
            Assert.DoesNotContain("Secretname", clear, StringComparison.Ordinal);
            Assert.DoesNotContain("usr_ann", clear, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Remove_EndsTheSessionOnEveryReplica_AndARenewalCannotBringItBack()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var (a, b) = (db.AddReplica(), db.AddReplica());
        await AddUserAsync(a, "usr_ann");
        var (storeA, storeB) = (Store(a), Store(b));
        var id = await storeA.StoreAsync(Ticket("usr_ann"));

        await storeB.RemoveAsync(id);
        await storeA.RenewAsync(id, Ticket("usr_ann"));

        Assert.Null(await storeA.RetrieveAsync(id));
        Assert.Null(await storeB.RetrieveAsync(id));
    }

    [Fact]
    public async Task Expiry_Honoured_RenewalPushesItOn_PrunerDeletesOnlyExpiredRows()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var a = db.AddReplica();
        await AddUserAsync(a, "usr_ann");
        var store = Store(a);
        var renewed = await store.StoreAsync(Ticket("usr_ann"));
        var idle = await store.StoreAsync(Ticket("usr_ann"));

        _time.Advance(TimeSpan.FromMinutes(20));
        await store.RenewAsync(renewed, Ticket("usr_ann"));
        _time.Advance(TimeSpan.FromMinutes(15));

        Assert.NotNull(await store.RetrieveAsync(renewed));
        Assert.Null(await store.RetrieveAsync(idle));
        await store.RenewAsync(idle, Ticket("usr_ann")); // an expired session is not renewed
        Assert.Null(await store.RetrieveAsync(idle));
        Assert.Equal(1, await a.Writes.ExecuteAsync((c, t) => UiSessionRows.DeleteExpiredBefore(c, t, _time.GetUtcNow(), 100)));
        Assert.NotNull(await store.RetrieveAsync(renewed));
    }

    [Fact]
    public async Task DeletingTheUser_EndsItsSessions()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var a = db.AddReplica();
        await AddUserAsync(a, "usr_ann");
        var store = Store(a);
        var id = await store.StoreAsync(Ticket("usr_ann"));

        await a.Writes.ExecuteAsync((c, t) => Broker.Users.UserStore.Delete(c, t, "usr_ann"));

        Assert.Null(await store.RetrieveAsync(id));
        Assert.Equal(0, await a.Database.ReadAsync(c => Sql.Query(c, null, "SELECT COUNT(*) FROM ui_sessions", r => Convert.ToInt32(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)).Single()));
    }

    [Fact]
    public async Task KeyRing_SharedByReplicas_SealedInTheTable_TamperedRowRefused()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var (a, b) = (db.AddReplica(), db.AddReplica());

        var protectedByA = Protection(a).CreateProtector("test").Protect("hello from A");

        Assert.Equal("hello from A", Protection(b).CreateProtector("test").Unprotect(protectedByA));
        var rows = await a.Database.ReadAsync(c => Sql.Query(c, null, "SELECT id, ciphertext FROM data_protection_keys", r => (r.GetString(0), (byte[])r.GetValue(1))));
        var (id, ciphertext) = Assert.Single(rows);
        Assert.StartsWith("key-", id, StringComparison.Ordinal);
        var clear = Encoding.UTF8.GetString(ciphertext);
        Assert.DoesNotContain("masterKey", clear, StringComparison.Ordinal);
        Assert.DoesNotContain("<key", clear, StringComparison.Ordinal);

        // Another row's sealed element under this id, or a flipped byte, does not open.
        ciphertext[^1] ^= 1;
        await a.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE data_protection_keys SET ciphertext = @c WHERE id = @id", ("@c", ciphertext), ("@id", id)));
        Assert.Throws<Broker.Vault.SecretIntegrityException>(() => Repository(b).GetAllElements());
    }

    [Fact]
    public async Task SealedKeyElement_OpensOnlyUnderItsOwnKeyId_AndNotWhenAltered()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var repository = Repository(db.AddReplica());
        var element = new System.Xml.Linq.XElement("key", new System.Xml.Linq.XAttribute("id", "6f1c9a62-0000-4000-8000-000000000001"),
            new System.Xml.Linq.XElement("masterKey", "c2VjcmV0LWtleS1tYXRlcmlhbA=="));
        var sealedElement = repository.Seal("key-6f1c9a62-0000-4000-8000-000000000001", element);

        Assert.Equal(element.ToString(), repository.Open("key-6f1c9a62-0000-4000-8000-000000000001", sealedElement).ToString());
        Assert.DoesNotContain("c2VjcmV0", Encoding.UTF8.GetString(sealedElement.Ciphertext), StringComparison.Ordinal);
        Assert.Throws<Broker.Vault.SecretIntegrityException>(() => repository.Open("key-6f1c9a62-0000-4000-8000-000000000002", sealedElement));
        var flipped = sealedElement with { Ciphertext = [.. sealedElement.Ciphertext] };
        flipped.Ciphertext[10] ^= 0x40;
        Assert.Throws<Broker.Vault.SecretIntegrityException>(() => repository.Open("key-6f1c9a62-0000-4000-8000-000000000001", flipped));
    }

    private DatabaseXmlRepository Repository(ContractDatabase.Replica replica) => new(replica.Database, replica.Writes, replica.Keyring, _time);

    private IDataProtectionProvider Protection(ContractDatabase.Replica replica)
    {
        var services = new ServiceCollection();
        var repository = Repository(replica);
        services.AddDataProtection().SetApplicationName(WebUiAuthentication.DataProtectionApplicationName);
        services.Configure<KeyManagementOptions>(keys => keys.XmlRepository = repository);
        return services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>();
    }

    private UiSessionStore Store(ContractDatabase.Replica replica) =>
        new(replica.Database, replica.Writes, Protection(replica), new WebUiSettings(), _time);

    private static Task AddUserAsync(ContractDatabase.Replica replica, string id) =>
        replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "INSERT INTO users (id, name, created_at) VALUES (@id, @id, 0)", ("@id", id)));

    private AuthenticationTicket Ticket(string userId)
    {
        var identity = new ClaimsIdentity([new Claim(CallerClaims.UserId, userId), new Claim(SignedInUserResolver.NameClaim, "Ann Secretname")], WebUiAuthentication.CookieScheme);
        return new AuthenticationTicket(new ClaimsPrincipal(identity), new AuthenticationProperties { ExpiresUtc = _time.GetUtcNow() + TimeSpan.FromMinutes(30) }, WebUiAuthentication.CookieScheme);
    }
}

public sealed class SqliteUiSessionStoreContractTests() : UiSessionStoreContractTests(new SqliteBackend());

public sealed class PostgresUiSessionStoreContractTests() : UiSessionStoreContractTests(new PostgresBackend());
