namespace Xares.Sidecar.Sessions;

/// <summary>There is no live broker session: the sidecar waits for a bootstrap token.</summary>
internal sealed class NoSessionException : Exception
{
    public NoSessionException() : base("the sidecar has no broker session yet; hand it a bootstrap token (xares-sidecar bootstrap)") { }

    public NoSessionException(string message) : base(message) { }

    public NoSessionException(string message, Exception inner) : base(message, inner) { }
}

internal sealed record BootstrapOutcome(bool Accepted, string Message);
