using Xares.Protos.Sidecar.V1;

namespace Xares.Sidecar.Local;

/// <summary>
/// An answer to a socket peer, and what the connection keeps alive until the peer closes it (the
/// proxies of a `run`): disposed when the connection ends, however it ends.
/// </summary>
internal readonly record struct LocalReply(SidecarResponse Response, IAsyncDisposable? HeldUntilClose = null)
{
    public static implicit operator LocalReply(SidecarResponse response) => new(response);

    public static LocalReply FromSidecarResponse(SidecarResponse response) => new(response);
}
