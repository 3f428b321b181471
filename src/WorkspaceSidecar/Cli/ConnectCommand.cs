using System.CommandLine;
using System.Globalization;
using Xares.CommandLine;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Local;

namespace Xares.Sidecar.Cli;

/// <summary>
/// `xares-sidecar connect PROVIDER`: starts the OAuth device flow through the broker, prints where
/// to approve it and the code, and waits until the broker reports the connection active (exit 0),
/// denied or expired (exit 1). No token ever reaches this process.
/// </summary>
internal static class ConnectCommand
{
    internal static TimeSpan PollEvery { get; set; } = TimeSpan.FromSeconds(2);

    public static Command Create(SidecarCli cli)
    {
        var socket = cli.SocketOption();
        var provider = new Argument<string>("provider") { Description = "The OAuth provider's name, as the admin registered it" };
        var noWait = new Option<bool>("--no-wait") { Description = "Print the code and exit without waiting for approval" };
        var command = new Command("connect", "Connect your account at an OAuth provider (device flow through the broker); git then uses its tokens")
        {
            provider, socket, noWait,
        };
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var path = parse.GetRequiredValue(socket);
            var started = LocalSocketClient.Expect(
                await LocalSocketClient.SendAsync(path, new SidecarRequest { Connect = new ConnectRequest { Provider = parse.GetRequiredValue(provider) } },
                    verifyPeer: null, cancellationToken),
                SidecarResponse.ResponseOneofCase.Connect).Connect;
            var expires = DateTimeOffset.FromUnixTimeSeconds(started.ExpiresAtUnix);
            var output = cli.Console.Out;
            await output.WriteLineAsync($"To connect {started.ProviderName}, open {started.VerificationUri} and enter the code: {started.UserCode}");
            if (started.VerificationUriComplete.Length > 0)
            {
                await output.WriteLineAsync($"(or open {started.VerificationUriComplete})");
            }
            await output.WriteLineAsync($"The code expires at {expires.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}. Connection: {started.ConnectionId}");
            await output.FlushAsync(cancellationToken);
            if (parse.GetValue(noWait))
            {
                return 0;
            }
            while (true)
            {
                await Task.Delay(PollEvery, cancellationToken);
                var status = LocalSocketClient.Expect(
                    await LocalSocketClient.SendAsync(path, new SidecarRequest { ConnectStatus = new ConnectStatusRequest { ConnectionId = started.ConnectionId } },
                        verifyPeer: null, cancellationToken),
                    SidecarResponse.ResponseOneofCase.ConnectStatus).ConnectStatus;
                switch (status.Status)
                {
                    case "pending":
                        continue;
                    case "active":
                        await output.WriteLineAsync($"Connected to {started.ProviderName}. git now gets its tokens from the broker.");
                        return 0;
                    default:
                        await cli.Console.Error.WriteLineAsync($"xares: not connected ({status.Status}): {status.Message}");
                        return ExitCodes.Failure;
                }
            }
        }));
        return command;
    }
}
