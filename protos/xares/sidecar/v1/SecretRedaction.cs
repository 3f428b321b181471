using Google.Protobuf;

namespace Xares.Protos.Sidecar.V1;

// Generated messages print every field as JSON (ToString, JsonFormatter.ToDiagnosticString), so
// the ones that carry a token or secret print a redacted copy instead. The JSON formatter asks
// ICustomDiagnosticMessage for nested messages too, so a response wrapping one is covered.
// Linked into every project that compiles local.proto.

public sealed partial class BootstrapRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => SecretRedaction.Format(this, m => m.BootstrapToken = SecretRedaction.Mark(m.BootstrapToken));
}

public sealed partial class GitGetResponse : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => SecretRedaction.Format(this, m => m.Password = SecretRedaction.Mark(m.Password));
}

public sealed partial class GitEraseRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => SecretRedaction.Format(this, m => m.Password = SecretRedaction.Mark(m.Password));
}

public sealed partial class AiKeyResponse : ICustomDiagnosticMessage
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
