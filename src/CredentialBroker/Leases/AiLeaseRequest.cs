using Xares.Broker.Credentials;

namespace Xares.Broker.Leases;

/// <summary>
/// How the sidecar will use an AI key. <see cref="Inject"/>: the real key goes into a process
/// environment (`run --mode inject`, `env`), counted as one use and audited as such.
/// <see cref="Proxy"/>: the sidecar's proxy holds the key and forwards requests the broker granted
/// (<see cref="AiRequestGranter"/>), each counted as one use when granted.
/// </summary>
internal static class AiLeaseModes
{
    public const string Inject = "inject";
    public const string Proxy = "proxy";
}

/// <summary>A sidecar's request: a provider, optionally one named credential of the owner, and the mode.</summary>
internal sealed record AiLeaseRequest(string? Provider, string? CredentialId, string Mode);

/// <summary>
/// An issued AI lease with the secret it carries. <see cref="BaseUrl"/> null = the provider's public API.
/// <see cref="GrantedRequests"/>: the first block of requests granted with a proxy-mode lease (0 for inject).
/// </summary>
internal sealed record IssuedAiLease(LeaseRecord Lease, string Provider, string? BaseUrl, string Secret, long GrantedRequests = 0)
{
    public override string ToString() =>
        $"{nameof(IssuedAiLease)} {{ Lease = {Lease}, Provider = {Provider}, BaseUrl = {BaseUrl}, Secret = [redacted], GrantedRequests = {GrantedRequests} }}";
}

/// <summary>
/// What GetAiCredential answers: a lease, the limit that refused it, the credential the workspace
/// policy excludes, the proxy-only credential an inject request named (<see cref="ProxyOnly"/>
/// holds its id), or none of them (no match).
/// </summary>
internal sealed record AiLeaseOutcome(Sessions.SessionCheck Session, IssuedAiLease? Lease = null, LimitRefusal? LimitReached = null,
    PolicyExclusion? ExcludedByPolicy = null, string? ProxyOnly = null);

/// <summary>The owner's credential exists, but the workspace policy's allowedHosts exclude the host (host:port) its key goes to.</summary>
internal sealed record PolicyExclusion(string CredentialId, string Provider, string Host);

internal sealed record LimitRefusal(string CredentialId, MonthlyQuota Quota);
