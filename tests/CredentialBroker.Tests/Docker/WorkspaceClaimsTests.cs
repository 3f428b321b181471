using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Docker;

namespace Xares.Broker.Tests.Docker;

/// <summary>The signed xares.claim label: what verifies, what does not, and that the workspace id follows from the claim id.</summary>
public sealed class WorkspaceClaimsTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly WorkspaceClaims Claims = new(Key);
    private static readonly WorkspaceClaim Claim = new("claim-0123456789abcdef", "usr_alice", "alice-dev", ["github.com", "*.gitlab.example.com"],
        DateTimeOffset.FromUnixTimeSeconds(1_900_000_000));

    [Fact]
    public void SignedClaim_ReadsBackUnchanged()
    {
        var label = Claims.Sign(Claim);

        Assert.Equal(ClaimProblem.None, Claims.TryRead(label, out var read));
        Assert.Equal(Claim.Id, read!.Id);
        Assert.Equal(Claim.UserId, read.UserId);
        Assert.Equal(Claim.Name, read.Name);
        Assert.Equal(Claim.AllowedHosts, read.AllowedHosts);
        Assert.Equal(Claim.ExpiresAt, read.ExpiresAt);
        Assert.StartsWith("v1.", label, StringComparison.Ordinal);
    }

    [Fact]
    public void WorkspaceId_FollowsFromTheClaimIdOnly()
    {
        Assert.Matches("^ws_[0-9a-f]{32}$", Claim.WorkspaceId);
        Assert.Equal(Claim.WorkspaceId, (Claim with { Name = "other", UserId = "usr_bob" }).WorkspaceId);
        Assert.NotEqual(Claim.WorkspaceId, (Claim with { Id = "claim-0123456789abcdeX" }).WorkspaceId);
    }

    [Fact]
    public void OtherKey_OrEditedPayload_BadSignature()
    {
        var label = Claims.Sign(Claim);
        var parts = label.Split('.');
        var edited = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("usr_alice", "usr_admin")));

        Assert.Equal(ClaimProblem.BadSignature, new WorkspaceClaims(RandomNumberGenerator.GetBytes(32)).TryRead(label, out _));
        Assert.Equal(ClaimProblem.BadSignature, Claims.TryRead($"v1.{edited}.{parts[2]}", out var claim));
        Assert.Null(claim);
    }

    [Theory]
    [InlineData("")]
    [InlineData("v1")]
    [InlineData("v1.a.b.c")]
    [InlineData("v2.e30.AAAA")]
    [InlineData("v1.e30.not*base64")]
    public void Malformed_IsRefused(string label) =>
        Assert.Equal(ClaimProblem.Malformed, Claims.TryRead(label, out _));

    [Theory]
    [InlineData("""{"id":"short","user":"usr_a","name":"n","exp":1900000000}""")]
    [InlineData("""{"id":"claim-0123456789abcdef","user":"","name":"n","exp":1900000000}""")]
    [InlineData("""{"id":"claim-0123456789abcdef","user":"usr_a","name":" ","exp":1900000000}""")]
    [InlineData("""{"id":"claim-0123456789abcdef","user":"usr_a","name":"n\u0000","exp":1900000000}""")]
    [InlineData("""{"id":"claim-0123456789abcdef","user":"usr_a","name":"n","exp":0}""")]
    [InlineData("""{"id":"claim-0123456789abcdef","user":"usr_a","name":"n","hosts":["*."],"exp":1900000000}""")]
    [InlineData("""{"id":"claim-0123456789abcdef","user":"usr_a","name":"n","exp":1900000000,"admin":true}""")]
    [InlineData("""{"id":"claim 0123456789abcdef","user":"usr_a","name":"n","exp":1900000000}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""not json""")]
    public void SignedButInsane_IsMalformed(string json)
    {
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
        var mac = Base64Url.EncodeToString(HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes($"xares.claim.v1.{payload}")));

        Assert.Equal(ClaimProblem.Malformed, Claims.TryRead($"v1.{payload}.{mac}", out _));
    }

    [Fact]
    public void WithoutKey_ClaimsAreOff()
    {
        var off = new WorkspaceClaims(null);

        Assert.Equal(ClaimProblem.Disabled, off.TryRead(Claims.Sign(Claim), out _));
        Assert.Throws<ArgumentException>(() => new WorkspaceClaims(new byte[16]));
    }

    [Fact]
    public void KeyFile_ShortOrNotBase64_IsAStartUpError()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, Convert.ToBase64String(new byte[16]));
            Assert.Contains("needs at least 32", Assert.Throws<InvalidOperationException>(() => WorkspaceClaims.FromKeyFile(path)).Message, StringComparison.Ordinal);
            File.WriteAllText(path, "not base64 at all!");
            Assert.Throws<InvalidOperationException>(() => WorkspaceClaims.FromKeyFile(path));
            File.WriteAllText(path, Convert.ToBase64String(Key) + "\n");
            Assert.Equal(ClaimProblem.None, WorkspaceClaims.FromKeyFile(path).TryRead(Claims.Sign(Claim), out _));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
