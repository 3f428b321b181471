using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Xares.Sidecar.Local;

/// <summary>struct ucred of the other end of a Unix socket, as the kernel reports it.</summary>
internal readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public static PeerCredentials Of(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 12)
        {
            throw new IOException("SO_PEERCRED returned a short ucred");
        }
        return new PeerCredentials(
            MemoryMarshal.Read<int>(ucred),
            MemoryMarshal.Read<uint>(ucred[4..]),
            MemoryMarshal.Read<uint>(ucred[8..]));
    }
}

internal enum PeerDecision
{
    Allowed,
    /// <summary>Root, when the sidecar runs under its own uid: the broker's `docker exec` of `bootstrap` runs as root.</summary>
    BootstrapOnly,
    /// <summary>pid 0: the peer lives in another PID namespace (another container or the host).</summary>
    RefusedForeignPidNamespace,
    RefusedUid,
}

/// <summary>
/// Rule f: only our own uid and explicitly allowed uids may talk to the sidecar; root, otherwise,
/// may only hand over a bootstrap token (it could read our memory anyway, but gets no new way in).
/// </summary>
internal sealed class PeerPolicy(uint ownUid, IReadOnlyCollection<uint> allowedUids)
{
    public uint OwnUid => ownUid;

    public PeerDecision Decide(PeerCredentials peer)
    {
        if (peer.Pid == 0)
        {
            return PeerDecision.RefusedForeignPidNamespace;
        }
        if (peer.Uid == ownUid || allowedUids.Contains(peer.Uid))
        {
            return PeerDecision.Allowed;
        }
        return peer.Uid == 0 ? PeerDecision.BootstrapOnly : PeerDecision.RefusedUid;
    }

    /// <summary>
    /// Replacing the session is for whoever runs the sidecar (or root, as `docker exec` does),
    /// not for every allowed workspace user.
    /// </summary>
    public bool MayBootstrap(PeerCredentials peer) => peer.Uid == ownUid || peer.Uid == 0;
}
