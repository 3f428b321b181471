using System.Data.Common;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.Tests.Users;

/// <summary>The users table's OIDC subject (migration 22), on SQLite and PostgreSQL.</summary>
public abstract class UserSubjectContractTests(StorageBackend backend)
{
    private static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    [Fact]
    public async Task Subject_StoredReadAndFoundExactly_ManyUsersWithoutOne()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        var ann = new UserRecord("usr_ann", "Ann", "ann@example.test", Created, "248289761001");

        await replica.Writes.ExecuteAsync((c, t) =>
        {
            UserStore.Insert(c, t, ann);
            UserStore.Insert(c, t, new UserRecord("usr_bob", "Bob", null, Created));
            UserStore.Insert(c, t, new UserRecord("usr_cy", "Cy", null, Created)); // NULL subjects do not collide
        });

        Assert.Equal(ann, await replica.Database.ReadAsync(c => UserStore.Find(c, null, "usr_ann")));
        Assert.Equal(ann, await replica.Database.ReadAsync(c => UserStore.FindBySubject(c, null, "248289761001")));
        Assert.Null(await replica.Database.ReadAsync(c => UserStore.FindBySubject(c, null, "248289761001 ")));
        Assert.Null((await replica.Database.ReadAsync(c => UserStore.Find(c, null, "usr_bob")))!.OidcSubject);
    }

    [Fact]
    public async Task Subject_UniqueAmongUsers_TheIndexRefusesASecondHolder()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        await replica.Writes.ExecuteAsync((c, t) =>
        {
            UserStore.Insert(c, t, new UserRecord("usr_ann", "Ann", null, Created, "same"));
            UserStore.Insert(c, t, new UserRecord("usr_bob", "Bob", null, Created));
        });

        await Assert.ThrowsAnyAsync<DbException>(() => replica.Writes.ExecuteAsync((c, t) =>
            UserStore.Insert(c, t, new UserRecord("usr_cy", "Cy", null, Created, "same"))));
        await Assert.ThrowsAnyAsync<DbException>(() => replica.Writes.ExecuteAsync((c, t) =>
            UserStore.Update(c, t, new UserRecord("usr_bob", "Bob", null, Created, "same"))));
        Assert.Null((await replica.Database.ReadAsync(c => UserStore.Find(c, null, "usr_bob")))!.OidcSubject);
    }

    [Fact]
    public async Task Update_ChangingTheSubject_RaisesTheRowVersion()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        var bob = new UserRecord("usr_bob", "Bob", null, Created);
        await replica.Writes.ExecuteAsync((c, t) => UserStore.Insert(c, t, bob));
        var before = await replica.Database.ReadAsync(c => RowVersions.Find(c, null, VersionedTable.Users, bob.Id));

        await replica.Writes.ExecuteAsync((c, t) => UserStore.Update(c, t, bob with { OidcSubject = "bob-sub" }));

        Assert.Equal(before + 1, await replica.Database.ReadAsync(c => RowVersions.Find(c, null, VersionedTable.Users, bob.Id)));
        Assert.Equal("bob-sub", (await replica.Database.ReadAsync(c => UserStore.FindBySubject(c, null, "bob-sub")))!.OidcSubject);
    }
}

public sealed class SqliteUserSubjectContractTests() : UserSubjectContractTests(new SqliteBackend());

public sealed class PostgresUserSubjectContractTests() : UserSubjectContractTests(new PostgresBackend());
