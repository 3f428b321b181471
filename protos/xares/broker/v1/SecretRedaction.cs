using Google.Protobuf;

namespace Xares.Protos.Broker.V1;

// Generated messages print every field as JSON (ToString, JsonFormatter.ToDiagnosticString), so
// the ones that carry a token or secret print a redacted copy instead. The JSON formatter asks
// ICustomDiagnosticMessage for nested messages too, so a reply wrapping a lease is covered.
// Linked into every project that compiles sidecar_broker.proto.

public sealed partial class OpenSessionRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => SecretRedaction.Format(this, m => m.BootstrapToken = SecretRedaction.Mark(m.BootstrapToken));
}

public sealed partial class RefreshSessionRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => SecretRedaction.Format(this, m => m.RetryKey = ByteString.Empty);
}

public sealed partial class SessionGrant : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => SecretRedaction.Format(this, m => m.SessionToken = SecretRedaction.Mark(m.SessionToken));
}

public sealed partial class GitLease : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => SecretRedaction.Format(this, m => m.Secret = SecretRedaction.Mark(m.Secret));
}

public sealed partial class AiLease : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => SecretRedaction.Format(this, m => m.Secret = SecretRedaction.Mark(m.Secret));
}

file static class SecretRedaction
{
    // Not diagnostic: it formats the redacted copy itself instead of asking the copy again.
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);

    public static string Mark(string value) => value.Length == 0 ? "" : "[redacted]";

    public static string Format<T>(T message, Action<T> redact) where T : IMessage<T>, IDeepCloneable<T>
    {
        var copy = message.Clone();
        redact(copy);
        return Formatter.Format(copy);
    }
}
