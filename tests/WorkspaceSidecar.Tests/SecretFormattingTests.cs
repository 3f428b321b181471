using Xares.Sidecar.Leases;
using Xares.Tests.Shared;

namespace Xares.Sidecar.Tests;

/// <summary>Every sidecar type that carries a secret, formatted the ways a log line or exception would: the secret never shows.</summary>
public sealed class SecretFormattingTests
{
    private const string Secret = SecretFormatting.Secret;

    public static TheoryData<string, object> SecretBearing()
    {
        var data = new TheoryData<string, object>
        {
            { nameof(CachedLease), new CachedLease("lea_1", "crd_1", "alice", Secret, DateTimeOffset.UnixEpoch, 1, DateTimeOffset.UnixEpoch) },
        };
        foreach (var (what, value) in BrokerProtoSecrets.Messages())
        {
            data.Add(what, value);
        }
        foreach (var (what, value) in LocalProtoSecrets.Messages())
        {
            data.Add(what, value);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SecretBearing))]
    public void Format_SecretBearingType_NeverShowsSecret(string what, object value)
    {
        SecretFormatting.AssertNeverShows(what, value);
    }
}
