using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Xares.Broker.Audit;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Vault;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Vault;

/// <summary>Key rotation and rekey keep every secret readable and the audit chain verifiable (invariant 6).</summary>
public sealed class KeyRotationTests
{
    [Fact]
    public async Task Rotate_WhileBrokerServes_RewrapsEverySecretAndLeasesKeepWorking()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        for (var i = 0; i < 5; i++)
        {
            await host.CreateGitCredentialAsync(user, $"https://git{i}.example.test", "alice", $"secret-rotation-{i}-abcdef");
        }
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();

        // The CLI runs in its own "process" (its own keyring) against the live database.
        var (database, keyring) = OpenSeparately(host);
        var result = new KeyRotation(database, keyring, new AuditChain(keyring, TimeProvider.System)).Rotate(TextWriter.Null, "test");

        Assert.Equal(2, result.Version);
        Assert.Equal(5, result.Rewrapped);
        Assert.All(new KeyRotation(database, keyring, new AuditChain(keyring, TimeProvider.System)).Status().Versions,
            s => Assert.Equal(s.Version == 2 ? 5 : 0, s.Usage.GetValueOrDefault("credentials")));
        // The running broker has never seen version 2: it picks it up on first sight.
        var lease = (await sidecar.GetAsync("https", "git3.example.test")).Lease;
        Assert.Equal("secret-rotation-3-abcdef", lease.Secret);
        var verify = await host.Admin.GetFromJsonAsync<VerifyBody>("/api/v1/audit/verify");
        Assert.True(verify!.Ok);
    }

    [Fact]
    public async Task Rotate_Twice_ResumesAndOldVersionsStayReadable()
    {
        await using var db = TestDatabase.Create();
        var context = new SecretContext("cred_1", "usr_1", 1, "git", "generic", "https://h.example.test", "u");
        var sealedV1 = db.Keyring.Seal("s3cret-value"u8, context);
        var rotation = new KeyRotation(db.Database, db.Keyring, db.Audit) { Settle = TimeSpan.Zero };

        rotation.Rotate(TextWriter.Null, "test");
        rotation.Rotate(TextWriter.Null, "test");

        Assert.Equal(3, db.Keyring.CurrentVersion);
        Assert.Equal("s3cret-value"u8.ToArray(), db.Keyring.Open(sealedV1, context));
        using var connection = db.Database.Open();
        Assert.True(db.Audit.Verify(connection).Ok);
    }

    [Fact]
    public async Task Rekey_NewMasterKey_OpensKeyringOldOneDoesNot()
    {
        await using var db = TestDatabase.Create();
        var context = new SecretContext("cred_1", "usr_1", 1, "git", "generic", "https://h.example.test", "u");
        var sealedSecret = db.Keyring.Seal("s3cret-value"u8, context);
        new KeyRotation(db.Database, db.Keyring, db.Audit) { Settle = TimeSpan.Zero }.Rotate(TextWriter.Null, "test");
        var newMaster = MasterKey.FromBytes(RandomNumberGenerator.GetBytes(MasterKey.Size), "new");

        new KeyRotation(db.Database, db.Keyring, db.Audit).Rekey(newMaster, "test");

        var reopened = Keyring.LoadOrCreate(db.Database, newMaster, TimeProvider.System);
        Assert.Equal("s3cret-value"u8.ToArray(), reopened.Open(sealedSecret, context));
        using (var connection = db.Database.Open())
        {
            Assert.True(new AuditChain(reopened, TimeProvider.System).Verify(connection).Ok);
        }
        Assert.Throws<InvalidOperationException>(() => Keyring.LoadOrCreate(db.Database, MasterKey.FromBytes(db.MasterKeyBytes, "old"), TimeProvider.System));
    }

    private static (Xares.Broker.Storage.Database, Keyring) OpenSeparately(BrokerTestHost host)
    {
        var database = new Xares.Broker.Storage.Database($"Data Source={host.DatabasePath}");
        var masterKey = MasterKey.Load(null, null, host.DataDirectory);
        return (database, Keyring.LoadOrCreate(database, masterKey, TimeProvider.System));
    }

    private sealed record VerifyBody(bool Ok);
}
