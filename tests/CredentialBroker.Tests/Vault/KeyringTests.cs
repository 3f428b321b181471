using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Vault;

public sealed class KeyringTests
{
    private static readonly SecretContext Context = new("cred_1", "usr_1", 1, "git", "github", "https://github.com/org", "x-access-token");
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("ghp_KeyringSecret00000000000000000");

    [Fact]
    public async Task SealThenOpen_SameContext_ReturnsTheSecret()
    {
        await using var db = TestDatabase.Create();

        var sealedSecret = db.Keyring.Seal(Secret, Context);

        Assert.Equal(db.Keyring.CurrentVersion, sealedSecret.KekVersion);
        Assert.Equal(Secret, db.Keyring.Open(sealedSecret, Context));
        Assert.Equal(-1, sealedSecret.Ciphertext.AsSpan().IndexOf(Secret));
    }

    [Fact]
    public async Task Seal_SameSecretTwice_GivesDifferentCiphertexts()
    {
        await using var db = TestDatabase.Create();

        var a = db.Keyring.Seal(Secret, Context);
        var b = db.Keyring.Seal(Secret, Context);

        Assert.NotEqual(a.Ciphertext, b.Ciphertext);
        Assert.NotEqual(a.WrappedDataKey, b.WrappedDataKey);
    }

    [Theory]
    [InlineData("credentialId")]
    [InlineData("userId")]
    [InlineData("secretVersion")]
    [InlineData("kind")]
    [InlineData("provider")]
    [InlineData("destination")]
    [InlineData("scheme")]
    [InlineData("username")]
    public async Task Open_WrongContext_ThrowsSecretIntegrityException(string changed)
    {
        await using var db = TestDatabase.Create();
        var sealedSecret = db.Keyring.Seal(Secret, Context);
        var other = changed switch
        {
            "credentialId" => Context with { CredentialId = "cred_2" },
            "userId" => Context with { UserId = "usr_2" },
            "secretVersion" => Context with { SecretVersion = 2 },
            "kind" => Context with { Kind = "ai" },
            "provider" => Context with { Provider = "gitlab" },
            "destination" => Context with { Destination = "https://github.com/org-evil" },
            "scheme" => Context with { Destination = "http://github.com/org" },
            _ => Context with { Username = "someone" },
        };

        Assert.Throws<SecretIntegrityException>(() => db.Keyring.Open(sealedSecret, other));
    }

    [Fact]
    public async Task Open_AlteredCiphertextOrKey_ThrowsSecretIntegrityException()
    {
        await using var db = TestDatabase.Create();
        var sealedSecret = db.Keyring.Seal(Secret, Context);
        var ciphertext = (byte[])sealedSecret.Ciphertext.Clone();
        ciphertext[^1] ^= 1;
        var wrapped = (byte[])sealedSecret.WrappedDataKey.Clone();
        wrapped[20] ^= 1;

        Assert.Throws<SecretIntegrityException>(() => db.Keyring.Open(sealedSecret with { Ciphertext = ciphertext }, Context));
        Assert.Throws<SecretIntegrityException>(() => db.Keyring.Open(sealedSecret with { WrappedDataKey = wrapped }, Context));
        Assert.Throws<SecretIntegrityException>(() => db.Keyring.Open(sealedSecret with { KekVersion = 7 }, Context));
        Assert.Throws<SecretIntegrityException>(() => db.Keyring.Open(sealedSecret with { Ciphertext = [1, 2, 3] }, Context));
    }

    [Fact]
    public async Task LoadOrCreate_SameMasterKey_OpensEarlierSecrets()
    {
        await using var db = TestDatabase.Create();
        var sealedSecret = db.Keyring.Seal(Secret, Context);

        var reloaded = Keyring.LoadOrCreate(db.Database, MasterKey.FromBytes(db.MasterKeyBytes, "test"), TimeProvider.System);

        Assert.Equal(Secret, reloaded.Open(sealedSecret, Context));
        Assert.Equal(db.Keyring.AuditKey(1), reloaded.AuditKey(1));
    }

    [Fact]
    public async Task LoadOrCreate_WrongMasterKey_IsRefused()
    {
        await using var db = TestDatabase.Create();

        var error = Assert.Throws<InvalidOperationException>(() =>
            Keyring.LoadOrCreate(db.Database, MasterKey.FromBytes(RandomNumberGenerator.GetBytes(MasterKey.Size), "wrong"), TimeProvider.System));

        Assert.Contains("does not open", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keyring_StoredKey_IsWrappedNotPlain()
    {
        await using var db = TestDatabase.Create();
        using var connection = db.OpenRaw();

        var wrapped = (byte[])Broker.Storage.Sql.Scalar(connection, null, "SELECT wrapped_key FROM keyring WHERE version = 1")!;

        Assert.Equal(12 + 32 + 16, wrapped.Length);
        Assert.Throws<SecretIntegrityException>(() => AesGcmBox.Open(RandomNumberGenerator.GetBytes(32), wrapped, Encoding.UTF8.GetBytes("xares-keyring-v1:1")));
        Assert.Equal(32, AesGcmBox.Open(db.MasterKeyBytes, wrapped, Encoding.UTF8.GetBytes("xares-keyring-v1:1")).Length);
    }
}
