namespace Xares.Sidecar;

/// <summary>An expected failure whose message is safe to show as <c>xares: message</c>.</summary>
internal sealed class SidecarException : Exception
{
    public SidecarException(string message) : base(message) { }

    public SidecarException(string message, Exception inner) : base(message, inner) { }

    public SidecarException() { }

    /// <summary>A wrong setting (flag or XARES_* variable): a usage error (exit 2), nothing was done.</summary>
    public bool IsSettingError { get; private init; }

    public static SidecarException Setting(string message) => new(message) { IsSettingError = true };
}
