using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Xares.Protos.Broker.V1;

namespace Xares.Tests.Shared;

/// <summary>The sidecar_broker.proto messages that carry a secret, each holding <see cref="SecretFormatting.Secret"/>.</summary>
internal static class BrokerProtoSecrets
{
    public static IEnumerable<(string What, object Value)> Messages()
    {
        const string secret = SecretFormatting.Secret;
        var expires = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch);
        yield return (nameof(GitLease), new GitLease { LeaseId = "lea_1", Username = "alice", Secret = secret, ExpiresAt = expires });
        yield return (nameof(AiLease), new AiLease { LeaseId = "lea_1", Provider = "openai", Secret = secret, ExpiresAt = expires });
        yield return (nameof(SessionGrant), new SessionGrant { SessionToken = secret, SessionId = "ses_1", TokenExpiresAt = expires });
        yield return (nameof(OpenSessionRequest), new OpenSessionRequest { BootstrapToken = secret, SidecarVersion = "1" });
        yield return (nameof(RefreshSessionRequest), new RefreshSessionRequest { RetryKey = ByteString.CopyFromUtf8(secret) });
        yield return (nameof(GitCredentialReply), new GitCredentialReply { Lease = new GitLease { LeaseId = "lea_1", Secret = secret } });
        yield return (nameof(AiCredentialReply), new AiCredentialReply { Lease = new AiLease { LeaseId = "lea_1", Secret = secret } });
    }
}
