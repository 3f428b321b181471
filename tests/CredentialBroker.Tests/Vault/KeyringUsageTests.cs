using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Vault;

public sealed class KeyringUsageTests
{
    /// <summary>A table added later that names a keyring version must be listed, or prune could delete a version it needs.</summary>
    [Fact]
    public async Task References_ListEveryColumnOfTheSchemaThatNamesAKeyringVersion()
    {
        await using var db = TestDatabase.Create();
        using var connection = db.Database.Open();

        var columns = Sql.Query(connection, null,
            """
            SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
            WHERE m.type = 'table' AND m.name <> 'keyring' AND (p.name LIKE '%key_version' OR p.name LIKE '%kek_version')
            """,
            r => (Table: r.GetString(0), Column: r.GetString(1)));

        Assert.NotEmpty(columns);
        Assert.Equal(columns.Order(), KeyringUsage.References.Select(r => (r.Table, r.Column)).Order());
    }
}
