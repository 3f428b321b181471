using System.Net.Http.Json;
using System.Text;
using Microsoft.Data.Sqlite;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;

namespace Xares.Broker.Tests.Vault;

/// <summary>Invariant 1: no stored secret in plaintext in the database file, its WAL, or anything else in the data directory.</summary>
public sealed class SecretsAtRestTests
{
    [Fact]
    public async Task DatabaseFiles_AfterCreateRotateAndDelete_NeverHoldPlaintextSecrets()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        string[] secrets =
        [
            "ghp_AtRestGitSecretQ7Zx0000000000000001",
            "sk-ant-AtRestAiSecretQ7Zx00000000000002",
            "glpat-AtRestRotatedQ7Zx000000000000003",
            "sk-AtRestDeletedQ7Zx00000000000000004",
        ];
        var git = await host.CreateGitCredentialAsync(user, "https://gitlab.com/group", "oauth2", secrets[0], "gitlab");
        await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials", new { kind = "ai", provider = "anthropic", secret = secrets[1] })).JsonAsync(201);
        await (await host.Admin.PatchJsonAsync($"/api/v1/credentials/{git}", new { secret = secrets[2] })).JsonAsync(200);
        var deleted = (await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "ai", provider = "openai", secret = secrets[3] })).JsonAsync(201)).Str("id");
        Assert.Equal(204, (int)(await host.Admin.DeleteAsync($"/api/v1/credentials/{deleted}")).StatusCode);

        // Before a checkpoint the rows live in the -wal file; after it, in the main file.
        AssertNoSecretIn(host.DataDirectory, secrets);
        Assert.True(File.Exists(host.DatabasePath + "-wal"));
        using (var connection = new SqliteConnection($"Data Source={host.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(FULL);";
            checkpoint.ExecuteNonQuery();
        }
        AssertNoSecretIn(host.DataDirectory, secrets);
        Assert.Contains(secrets[2][^4..], await (await host.Admin.GetAsync($"/api/v1/credentials/{git}")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static void AssertNoSecretIn(string directory, string[] secrets)
    {
        var files = Directory.GetFiles(directory, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith("xares.db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var buffer = new MemoryStream())
            {
                stream.CopyTo(buffer);
                bytes = buffer.ToArray();
            }
            foreach (var secret in secrets)
            {
                // The whole secret, and also its distinctive middle (no partial page-split copy either).
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"{Path.GetFileName(file)} holds a secret in plaintext");
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret[4..^4])) < 0, $"{Path.GetFileName(file)} holds part of a secret");
                Assert.True(bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(secret)) < 0, $"{Path.GetFileName(file)} holds a UTF-16 secret");
            }
        }
    }
}
