using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Leases;
using BrokerProto = Xares.Protos.Broker.V1;

namespace Xares.Sidecar.Tests;

/// <summary>Every sidecar type that carries a secret, formatted the ways a log line or exception would: the secret never shows.</summary>
public sealed class SecretFormattingTests
{
    private const string Secret = "xsecret-KnownValue-7f3a9c";

    public static TheoryData<string, object> SecretBearing()
    {
        var expires = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch);
        return new()
        {
            { nameof(CachedLease), new CachedLease("lea_1", "crd_1", "alice", Secret, DateTimeOffset.UnixEpoch, 1, DateTimeOffset.UnixEpoch) },
            { nameof(BrokerProto.GitLease), new BrokerProto.GitLease { LeaseId = "lea_1", Username = "alice", Secret = Secret, ExpiresAt = expires } },
            { nameof(BrokerProto.AiLease), new BrokerProto.AiLease { LeaseId = "lea_1", Provider = "openai", Secret = Secret, ExpiresAt = expires } },
            { nameof(BrokerProto.SessionGrant), new BrokerProto.SessionGrant { SessionToken = Secret, SessionId = "ses_1", TokenExpiresAt = expires } },
            { nameof(BrokerProto.OpenSessionRequest), new BrokerProto.OpenSessionRequest { BootstrapToken = Secret } },
            { nameof(BrokerProto.RefreshSessionRequest), new BrokerProto.RefreshSessionRequest { RetryKey = ByteString.CopyFromUtf8(Secret) } },
            { nameof(BrokerProto.GitCredentialReply), new BrokerProto.GitCredentialReply { Lease = new BrokerProto.GitLease { LeaseId = "lea_1", Secret = Secret } } },
            { nameof(BrokerProto.AiCredentialReply), new BrokerProto.AiCredentialReply { Lease = new BrokerProto.AiLease { LeaseId = "lea_1", Secret = Secret } } },
            { nameof(BootstrapRequest), new BootstrapRequest { BootstrapToken = Secret } },
            { nameof(GitGetResponse), new GitGetResponse { Username = "alice", Password = Secret } },
            { nameof(GitEraseRequest), new GitEraseRequest { Host = "git.example.test", Password = Secret } },
            { nameof(AiKeyResponse), new AiKeyResponse { Provider = "openai", Secret = Secret } },
            { nameof(SidecarRequest), new SidecarRequest { GitErase = new GitEraseRequest { Password = Secret } } },
            { nameof(GitForeignHelperRequest), new SidecarRequest { GitForeignHelper = new GitForeignHelperRequest { Host = "git.example.test", Password = Secret, Operation = "store" } } },
            { nameof(SidecarResponse), new SidecarResponse { GitGet = new GitGetResponse { Password = Secret } } },
        };
    }

    [Theory]
    [MemberData(nameof(SecretBearing))]
    public void Format_SecretBearingType_NeverShowsSecret(string what, object value)
    {
        var texts = new List<string> { $"{value}", value.ToString()! };
        if (value is IMessage message)
        {
            texts.Add(JsonFormatter.ToDiagnosticString(message));
        }

        // Bytes fields show as base64 in JSON.
        string[] forms = [Secret, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Secret))];
        foreach (var text in texts)
        {
            Assert.False(forms.Any(f => text.Contains(f, StringComparison.Ordinal)), $"{what} printed its secret: {text}");
        }
    }
}
