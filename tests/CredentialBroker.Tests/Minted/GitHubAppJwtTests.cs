using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xares.Broker.Minted;
using Xares.DevGitServer.GitHub;

namespace Xares.Broker.Tests.Minted;

public sealed class GitHubAppJwtTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 22, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Create_NumericAppId_Rs256WithBackdatedIatShortExpAndNumericIss()
    {
        using var key = RSA.Create(2048);
        var jwt = GitHubAppJwt.Create(key, "123456", Now);

        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var header = JsonSerializer.Deserialize<JsonElement>(Base64Url.DecodeFromChars(parts[0]));
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        var payload = JsonSerializer.Deserialize<JsonElement>(Base64Url.DecodeFromChars(parts[1]));
        Assert.Equal(Now.ToUnixTimeSeconds() - 60, payload.GetProperty("iat").GetInt64());
        var exp = payload.GetProperty("exp").GetInt64();
        Assert.True(exp > Now.ToUnixTimeSeconds() && exp <= Now.ToUnixTimeSeconds() + 600, "exp must lie within 10 minutes ahead");
        Assert.Equal(JsonValueKind.Number, payload.GetProperty("iss").ValueKind);
        Assert.Equal(123456, payload.GetProperty("iss").GetInt64());
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]),
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void Create_ClientId_IssIsAString()
    {
        using var key = RSA.Create(2048);
        var payload = JsonSerializer.Deserialize<JsonElement>(Base64Url.DecodeFromChars(GitHubAppJwt.Create(key, "Iv23liABC.x", Now).Split('.')[1]));
        Assert.Equal("Iv23liABC.x", payload.GetProperty("iss").GetString());
    }

    [Fact]
    public void Create_AcceptedByTheStandInsVerifier_AndRefusedUnderAnotherKey()
    {
        using var key = RSA.Create(2048);
        using var other = RSA.Create(2048);
        var jwt = GitHubAppJwt.Create(key, "77", Now);

        var (claims, error) = AppJwtVerifier.Verify(jwt, id => id == "77" ? key : null, Now);
        Assert.Null(error);
        Assert.Equal("77", claims!.Issuer);
        Assert.NotNull(AppJwtVerifier.Verify(jwt, _ => other, Now).Error);
        // Ten minutes later the token has expired.
        Assert.NotNull(AppJwtVerifier.Verify(jwt, _ => key, Now.AddMinutes(10)).Error);
    }

    [Theory]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----")]
    [InlineData("not a pem at all")]
    public void TryImportPrivateKey_Malformed_Null(string pem) => Assert.Null(GitHubAppJwt.TryImportPrivateKey(pem));

    [Fact]
    public void TryImportPrivateKey_PublicKeyOrShortKey_Null()
    {
        using var key = RSA.Create(2048);
        Assert.Null(GitHubAppJwt.TryImportPrivateKey(key.ExportSubjectPublicKeyInfoPem()));
        using var small = RSA.Create(1024);
        Assert.Null(GitHubAppJwt.TryImportPrivateKey(small.ExportRSAPrivateKeyPem()));
        using var imported = GitHubAppJwt.TryImportPrivateKey(key.ExportPkcs8PrivateKeyPem());
        Assert.NotNull(imported);
    }
}
