using System.CommandLine;
using System.Net.Sockets;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Local;
using Xares.Sidecar.Native;

namespace Xares.Sidecar.Cli;

/// <summary>
/// Hands a bootstrap token from stdin to the running sidecar. Never an argument: arguments
/// are visible to every process in /proc/*/cmdline.
/// </summary>
internal static class BootstrapCommand
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(SidecarCli cli)
    {
        var socket = cli.SocketOption();
        var command = new Command("bootstrap", "Read a bootstrap token (xbt_…) from stdin and hand it to the sidecar") { socket };
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
            var path = parse.GetRequiredValue(socket);
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
}
