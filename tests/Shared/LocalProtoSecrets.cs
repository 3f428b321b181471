using Xares.Protos.Sidecar.V1;

namespace Xares.Tests.Shared;

/// <summary>The local.proto (sidecar socket) messages that carry a secret, each holding <see cref="SecretFormatting.Secret"/>.</summary>
internal static class LocalProtoSecrets
{
    public static IEnumerable<(string What, object Value)> Messages()
    {
        const string secret = SecretFormatting.Secret;
        yield return (nameof(BootstrapRequest), new BootstrapRequest { BootstrapToken = secret });
        yield return (nameof(GitGetResponse), new GitGetResponse { Username = "alice", Password = secret });
        yield return (nameof(GitEraseRequest), new GitEraseRequest { Host = "git.example.test", Password = secret });
        yield return (nameof(AiKeyResponse), new AiKeyResponse { Provider = "openai", Secret = secret });
        yield return (nameof(SidecarRequest), new SidecarRequest { GitErase = new GitEraseRequest { Password = secret } });
        yield return (nameof(GitForeignHelperRequest),
            new SidecarRequest { GitForeignHelper = new GitForeignHelperRequest { Host = "git.example.test", Password = secret, Operation = "store" } });
        yield return (nameof(SidecarResponse), new SidecarResponse { GitGet = new GitGetResponse { Password = secret } });
    }
}
