using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Xares.Broker.Credentials.Matching;

namespace Xares.Broker.Docker;

/// <summary>
/// A platform's signed request, carried in a container's <c>xares.claim</c> label, to create a
/// workspace for that container instead of registering it through REST first. The claim is
/// single-use by construction: its workspace id is derived from the claim id, so only the first
/// live container presenting it is bound, and a copy of the label on another container is refused.
/// </summary>
internal sealed record WorkspaceClaim(string Id, string UserId, string Name, IReadOnlyList<string>? AllowedHosts, DateTimeOffset ExpiresAt)
{
    public const string Label = "xares.claim";

    /// <summary>ws_ and 32 hex characters of SHA-256 over the claim id: a platform can compute it before the container starts.</summary>
    public string WorkspaceId => "ws_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("xares.claim.v1:" + Id)))[..32];
}

/// <summary>Why a claim label was not accepted.</summary>
internal enum ClaimProblem
{
    None,
    Disabled,
    Malformed,
    BadSignature,
}

/// <summary>
/// Signs and verifies <c>xares.claim</c> labels with the key shared with the platform
/// (<c>--docker-claim-key-file</c>): <c>v1.&lt;payload&gt;.&lt;mac&gt;</c>, base64url, where the
/// payload is JSON {id, user, name, hosts?, exp (unix seconds)} and the mac is HMAC-SHA256 over
/// <c>xares.claim.v1.&lt;payload&gt;</c>. Without a key, claims are off and every claim label is refused.
/// </summary>
internal sealed class WorkspaceClaims
{
    public const int MinKeyBytes = 32;
    private const string Version = "v1";
    private const int MaxLabelLength = 4096;
    private const int MaxNameLength = 200;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    private readonly byte[]? _key;

    public WorkspaceClaims(byte[]? key)
    {
        if (key is not null && key.Length < MinKeyBytes)
        {
            throw new ArgumentException($"The claim key must be at least {MinKeyBytes} bytes.", nameof(key));
        }
        _key = key;
    }

    /// <summary>The key from a file holding it in base64 (at least 32 bytes); null (claims off) without a file.</summary>
    public static WorkspaceClaims FromKeyFile(string? path)
    {
        if (path is null)
        {
            return new WorkspaceClaims(null);
        }
        byte[] key;
        try
        {
            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new InvalidOperationException($"Cannot read the Docker claim key from {path}: it must hold at least {MinKeyBytes} random bytes in base64 ({ex.GetType().Name}).");
        }
        return key.Length >= MinKeyBytes
            ? new WorkspaceClaims(key)
            : throw new InvalidOperationException($"The Docker claim key in {path} has {key.Length} bytes; it needs at least {MinKeyBytes}.");
    }

    /// <summary>The label value for <paramref name="claim"/> (what a platform puts on the container).</summary>
    public string Sign(WorkspaceClaim claim)
    {
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(
            new ClaimPayload(claim.Id, claim.UserId, claim.Name, claim.AllowedHosts, claim.ExpiresAt.ToUnixTimeSeconds()), Json));
        return $"{Version}.{payload}.{Base64Url.EncodeToString(Mac(payload))}";
    }

    /// <summary>
    /// The claim a label carries, when its signature is valid and its fields are sane. Expiry is
    /// not checked here: it limits creating the workspace, not re-binding a container that
    /// already holds it (after a restart).
    /// </summary>
    public ClaimProblem TryRead(string label, out WorkspaceClaim? claim)
    {
        claim = null;
        if (_key is null)
        {
            return ClaimProblem.Disabled;
        }
        var parts = label.Trim().Split('.');
        if (label.Length > MaxLabelLength || parts.Length != 3 || parts[0] != Version)
        {
            return ClaimProblem.Malformed;
        }
        byte[] mac;
        try
        {
            mac = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            return ClaimProblem.Malformed;
        }
        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(parts[1])))
        {
            return ClaimProblem.BadSignature;
        }
        try
        {
            var payload = JsonSerializer.Deserialize<ClaimPayload>(Base64Url.DecodeFromChars(parts[1]), Json);
            if (payload is not { Id: { } id, User: { Length: > 0 } user, Name: { } name } || !IsClaimId(id) || !IsName(name)
                || !HostAllowList.TryParse(payload.Hosts, out _, out _) || payload.Exp <= 0)
            {
                return ClaimProblem.Malformed;
            }
            claim = new WorkspaceClaim(id, user, name.Trim(), payload.Hosts, DateTimeOffset.FromUnixTimeSeconds(payload.Exp));
            return ClaimProblem.None;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentOutOfRangeException)
        {
            return ClaimProblem.Malformed;
        }
    }

    private byte[] Mac(string payload) => HMACSHA256.HashData(_key!, Encoding.ASCII.GetBytes($"xares.claim.{Version}.{payload}"));

    // Random ids from the platform: long enough not to collide, short and plain enough for logs.
    private static bool IsClaimId(string id) =>
        id.Length is >= 16 and <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static bool IsName(string name) =>
        name.Trim().Length is > 0 and <= MaxNameLength && !name.Any(char.IsControl);

    private sealed record ClaimPayload(string? Id, string? User, string? Name, IReadOnlyList<string>? Hosts, long Exp);
}
