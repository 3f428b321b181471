using System.Net.Sockets;
using Xares.Sidecar.Native;

namespace Xares.Sidecar.Local;

/// <summary>Rule f: the socket lives in a private directory that only its owner can write to.</summary>
internal static class SocketDirectory
{
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupDirectory = PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
    private const UnixFileMode Writable = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>Creates the directory if missing, vets it, and clears a stale socket file.</summary>
    public static string PrepareForListening(string socketPath, uint? socketGroup)
    {
        var fullPath = Path.GetFullPath(socketPath);
        var directory = Path.GetDirectoryName(fullPath) ?? throw new SidecarException($"socket path {socketPath} has no directory");
        if (!Directory.Exists(directory))
        {
            var mode = socketGroup is null ? PrivateDirectory : GroupDirectory;
            Directory.CreateDirectory(directory, mode);
            File.SetUnixFileMode(directory, mode);
            if (socketGroup is { } gid)
            {
                FileOwnership.SetGroup(directory, gid);
            }
        }
        Verify(directory, FileOwnership.CurrentUid);
        RemoveStaleSocket(fullPath);
        return fullPath;
    }

    /// <summary>Refuses a directory that is a symlink, writable by group or others, or owned by another uid.</summary>
    public static void Verify(string directory, uint expectedOwner)
    {
        var info = new DirectoryInfo(directory);
        if (info.LinkTarget is not null)
        {
            throw new SidecarException($"socket directory {directory} is a symbolic link; refusing it");
        }
        var mode = File.GetUnixFileMode(directory);
        if ((mode & Writable) != 0)
        {
            throw new SidecarException($"socket directory {directory} is writable by group or others (mode {Convert.ToString((int)mode, 8)}); refusing it");
        }
        var owner = FileOwnership.Of(directory).Uid;
        if (owner != expectedOwner)
        {
            throw new SidecarException($"socket directory {directory} is owned by uid {owner}, not {expectedOwner}; refusing it");
        }
    }

    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new SidecarException($"another process is already serving {path}");
            }
            catch (SocketException)
            {
                // Nobody listens: a leftover from a previous run.
            }
        }
        File.Delete(path);
    }
}
