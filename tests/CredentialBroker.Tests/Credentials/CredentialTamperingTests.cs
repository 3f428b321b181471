using System.Net.Http.Json;
using System.Text;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Credentials;

/// <summary>Rule a and §5: a ciphertext moved to another row, or a destination edited in the database, fails to open.</summary>
public sealed class CredentialTamperingTests
{
    private const string AliceSecret = "ghp_AliceTamper000000000000000001";
    private const string BobSecret = "ghp_BobTamper00000000000000000002";

    [Fact]
    public async Task Open_CiphertextCopiedFromAnotherRow_Throws()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var (alice, bob) = (await host.CreateUserAsync("alice"), await host.CreateUserAsync("bob"));
        var source = await host.CreateGitCredentialAsync(alice, "https://github.com/org", "x-access-token", AliceSecret);
        var target = await host.CreateGitCredentialAsync(bob, "https://github.com/org", "x-access-token", BobSecret);
        var sameUser = await host.CreateGitCredentialAsync(alice, "https://github.com/org", "x-access-token", BobSecret);

        using var connection = UserEndpointsTests.Open(host);
        foreach (var victim in new[] { target, sameUser })
        {
            Sql.Execute(connection, null,
                """
                UPDATE credentials SET
                    ciphertext = (SELECT ciphertext FROM credentials WHERE id = $source),
                    wrapped_dek = (SELECT wrapped_dek FROM credentials WHERE id = $source),
                    kek_version = (SELECT kek_version FROM credentials WHERE id = $source)
                WHERE id = $victim
                """,
                ("$source", source), ("$victim", victim));
        }

        var keyring = host.Get<Keyring>();
        foreach (var victim in new[] { target, sameUser })
        {
            var record = CredentialStore.Find(connection, null, victim)!;
            Assert.Throws<SecretIntegrityException>(() => keyring.Open(record.Sealed, record.Context));
            var row = CredentialStore.FindGit(connection, null, victim)!;
            Assert.Throws<SecretIntegrityException>(() => keyring.Open(row.Sealed, row.Context));
        }
        var untouched = CredentialStore.FindGit(connection, null, source)!;
        Assert.Equal(AliceSecret, Encoding.UTF8.GetString(keyring.Open(untouched.Sealed, untouched.Context)));
    }

    [Theory]
    [InlineData("url = 'https://evil.example.com/org', host = 'evil.example.com'")]
    [InlineData("url = 'https://github.com/org-evil', path = '/org-evil'")]
    [InlineData("url = 'http://github.com/org', scheme = 'http', port = 80")]
    [InlineData("username = 'someone-else'")]
    [InlineData("provider = 'gitlab'")]
    [InlineData("secret_version = 2")]
    [InlineData("user_id = (SELECT id FROM users WHERE name = 'bob')")]
    public async Task Open_RowEditedInDatabase_Throws(string assignment)
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        await host.CreateUserAsync("bob");
        var id = await host.CreateGitCredentialAsync(alice, "https://github.com/org", "x-access-token", AliceSecret, "github");

        using var connection = UserEndpointsTests.Open(host);
        Sql.Execute(connection, null, $"UPDATE credentials SET {assignment} WHERE id = $id", ("$id", id));

        var row = CredentialStore.FindGit(connection, null, id)!;
        Assert.Throws<SecretIntegrityException>(() => host.Get<Keyring>().Open(row.Sealed, row.Context));
    }

    [Fact]
    public async Task FindGitCandidates_MatchingColumnsEditedButNotUrl_DoesNotOfferTheRow()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var id = await host.CreateGitCredentialAsync(alice, "https://github.com/org", "x-access-token", AliceSecret);

        using var connection = UserEndpointsTests.Open(host);
        Sql.Execute(connection, null, "UPDATE credentials SET host = 'evil.example.com' WHERE id = $id", ("$id", id));

        Assert.Empty(CredentialStore.FindGitCandidates(connection, null, alice, "https", "evil.example.com", 443));
    }

    [Fact]
    public async Task Open_AiBaseUrlEditedInDatabase_Throws()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var id = (await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{alice}/credentials",
            new { kind = "ai", provider = "openai", secret = AliceSecret, baseUrl = "https://llm.example.com/v1" })).JsonAsync(201)).Str("id");
        var keyring = host.Get<Keyring>();

        using var connection = UserEndpointsTests.Open(host);
        var before = CredentialStore.Find(connection, null, id)!;
        Assert.Equal(AliceSecret, Encoding.UTF8.GetString(keyring.Open(before.Sealed, before.Context)));
        Sql.Execute(connection, null, "UPDATE credentials SET url = 'https://attacker.example/v1' WHERE id = $id", ("$id", id));

        var after = CredentialStore.Find(connection, null, id)!;
        Assert.Throws<SecretIntegrityException>(() => keyring.Open(after.Sealed, after.Context));
    }
}
