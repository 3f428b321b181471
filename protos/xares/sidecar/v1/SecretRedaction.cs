using Google.Protobuf;
using Xares.Protos;

namespace Xares.Protos.Sidecar.V1;

// Generated messages print every field as JSON (ToString, JsonFormatter.ToDiagnosticString), so
// the ones that carry a token or secret print a redacted copy instead. The JSON formatter asks
// ICustomDiagnosticMessage for nested messages too, so a response wrapping one is covered.
// Linked into every project that compiles local.proto.

public sealed partial class BootstrapRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.BootstrapToken = MessageRedaction.Mark(m.BootstrapToken));
}

public sealed partial class GitGetResponse : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.Password = MessageRedaction.Mark(m.Password));
}

public sealed partial class GitEraseRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.Password = MessageRedaction.Mark(m.Password));
}

public sealed partial class GitForeignHelperRequest : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.Password = MessageRedaction.Mark(m.Password));
}

public sealed partial class AiKeyResponse : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.Secret = MessageRedaction.Mark(m.Secret));
}

public sealed partial class ProxyEndpoint : ICustomDiagnosticMessage
{
    public string ToDiagnosticString() => MessageRedaction.Format(this, m => m.Placeholder = MessageRedaction.Mark(m.Placeholder));
}
