namespace Xares.Broker.Leases;

/// <summary>What git asked the sidecar for, as it arrived (host may carry a port; path has no leading slash).</summary>
internal sealed record GitLeaseRequest(string Protocol, string Host, string? Path, string? Username);

/// <summary>An issued lease with the secret it carries; the only object that holds a plaintext secret on the way out.</summary>
internal sealed record IssuedGitLease(LeaseRecord Lease, string Username, string Secret)
{
    // A record prints every member; a lease in a log line or exception must not carry its secret.
    public override string ToString() => $"{nameof(IssuedGitLease)} {{ Lease = {Lease}, Username = {Username}, Secret = [redacted] }}";
}

internal sealed record GitLeaseOutcome(Sessions.SessionCheck Session, IssuedGitLease? Lease);
