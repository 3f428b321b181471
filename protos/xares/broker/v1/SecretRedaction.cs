using Google.Protobuf;
using Xares.Protos;

namespace Xares.Protos.Broker.V1;

// Generated messages print every field as JSON (ToString, JsonFormatter.ToDiagnosticString), so
// the ones that carry a token or secret print a redacted copy instead. The JSON formatter asks
// ICustomDiagnosticMessage for nested messages too, so a reply wrapping a lease is covered.
// Linked into every project that compiles sidecar_broker.proto.

public sealed partial class OpenSessionRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.BootstrapToken = MessageRedaction.Mark(m.BootstrapToken));
}

public sealed partial class RefreshSessionRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.RetryKey = ByteString.Empty);
}

public sealed partial class SessionGrant : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.SessionToken = MessageRedaction.Mark(m.SessionToken));
}

public sealed partial class GitLease : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.Secret = MessageRedaction.Mark(m.Secret));
}

public sealed partial class AiLease : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.Secret = MessageRedaction.Mark(m.Secret));
}
