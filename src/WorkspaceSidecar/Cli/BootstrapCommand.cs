using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Local;
using Xares.Sidecar.Native;

namespace Xares.Sidecar.Cli;

/// <summary>
/// Hands a bootstrap token from stdin to the running sidecar. Never an argument: arguments
/// are visible to every process in /proc/*/cmdline. When no sidecar listens yet, the token is
/// left in the bootstrap token file (0400, tmpfs only) for the sidecar to read and delete at start.
/// </summary>
internal static class BootstrapCommand
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(SidecarCli cli)
    {
        var socket = cli.SocketOption();
        var tokenFile = new Option<string>("--bootstrap-token-file")
        {
            Description = $"Where to leave the token when no sidecar listens yet; its folder must be a tmpfs (env {ServeCommand.BootstrapTokenFileVariable})",
            DefaultValueFactory = _ => cli.Environment(ServeCommand.BootstrapTokenFileVariable) is { Length: > 0 } path ? path : ServeCommand.DefaultBootstrapTokenFile,
        };
        var requireTmpfs = new Option<bool>("--require-tmpfs")
        {
            Description = "Refuse unless the socket's folder is a tmpfs (the broker's Docker watcher always asks for this)",
        };
        var command = new Command("bootstrap", "Read a bootstrap token (xbt_…) from stdin and hand it to the sidecar") { socket, tokenFile, requireTmpfs };
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var token = (await cli.Console.In.ReadLineAsync(cancellationToken))?.Trim();
            if (string.IsNullOrEmpty(token))
            {
                throw new SidecarException("no bootstrap token on standard input");
            }
            if (!token.StartsWith(LocalRequestHandler.BootstrapTokenPrefix, StringComparison.Ordinal))
            {
                throw new SidecarException($"standard input does not hold a bootstrap token ({LocalRequestHandler.BootstrapTokenPrefix}…)");
            }
            var path = Path.GetFullPath(parse.GetRequiredValue(socket));
            if (parse.GetValue(requireTmpfs))
            {
                MemoryFileSystem.Require(Path.GetDirectoryName(path)!);
            }
            if (!IsListening(path))
            {
                var file = LeaveForSidecar(token, Path.GetFullPath(parse.GetRequiredValue(tokenFile)));
                await cli.Console.Out.WriteLineAsync($"bootstrap token left in {file} for the sidecar to read");
                return 0;
            }
            var response = await LocalSocketClient.SendAsync(
                path,
                new SidecarRequest { Bootstrap = new BootstrapRequest { BootstrapToken = token } },
                connected => VerifyServer(connected, path),
                cancellationToken,
                AnswerTimeout);
            var result = LocalSocketClient.Expect(response, SidecarResponse.ResponseOneofCase.Bootstrap).Bootstrap;
            if (!result.Accepted)
            {
                throw new SidecarException($"bootstrap refused: {result.Message}");
            }
            await cli.Console.Out.WriteLineAsync($"bootstrap accepted: {result.Message}");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Rule f: the token goes only to the process that owns the socket, in a directory nobody
    /// else can write to (so nobody could have put their own socket there).
    /// </summary>
    internal static void VerifyServer(Socket connected, string socketPath)
    {
        var fullPath = Path.GetFullPath(socketPath);
        var owner = FileOwnership.Of(fullPath).Uid;
        SocketDirectory.Verify(Path.GetDirectoryName(fullPath)!, owner);
        var peer = PeerCredentials.Of(connected);
        if (peer.Uid != owner)
        {
            throw new SidecarException(
                $"refusing to hand over the bootstrap token: {fullPath} is owned by uid {owner} but served by uid {peer.Uid}");
        }
    }

    private static bool IsListening(string socketPath)
    {
        if (!File.Exists(socketPath) && !Directory.Exists(socketPath))
        {
            return false;
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes the token for a sidecar that has not started yet: only into a private tmpfs folder,
    /// mode 0400, owned by the folder's owner (the sidecar's uid), replacing an older unused token.
    /// </summary>
    internal static string LeaveForSidecar(string token, string file)
    {
        var directory = Path.GetDirectoryName(file)!;
        if (!Directory.Exists(directory))
        {
            throw new SidecarException($"no sidecar listens and {directory} does not exist; start the sidecar (or mount a tmpfs there) first");
        }
        MemoryFileSystem.Require(directory);
        var owner = FileOwnership.Of(directory);
        SocketDirectory.Verify(directory, owner.Uid);
        File.Delete(file);
        using (var stream = new FileStream(file, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead,
        }))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(token + "\n"));
        }
        if (FileOwnership.CurrentUid != owner.Uid && Libc.chown(file, owner.Uid, owner.Gid) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            File.Delete(file);
            throw new SidecarException($"cannot give {file} to uid {owner.Uid}: errno {errno}");
        }
        return file;
    }
}
