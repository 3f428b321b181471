namespace Xares.Broker.Leases;

/// <summary>
/// A live lease with what it hands out, for people to read: <see cref="Kind"/> is git or ai for a
/// stored credential, "github-app" for a minted installation token, "connection" for an OAuth
/// connection's token; <see cref="Source"/> the credential's name or provider; <see cref="Destination"/>
/// where the secret goes (a URL, or null for an AI provider's default endpoint).
/// </summary>
internal sealed record LiveLease(LeaseRecord Lease, string Kind, string Source, string? Destination);
