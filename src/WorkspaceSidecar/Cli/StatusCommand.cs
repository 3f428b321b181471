using System.CommandLine;
using Google.Protobuf.WellKnownTypes;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Local;

namespace Xares.Sidecar.Cli;

internal static class StatusCommand
{
    public static Command Create(SidecarCli cli)
    {
        var socket = cli.SocketOption();
        var command = new Command("status", "Show the sidecar's broker connection, session and cache (never a secret)") { socket };
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var response = await LocalSocketClient.SendAsync(
                parse.GetRequiredValue(socket),
                new SidecarRequest { Status = new StatusRequest() },
                verifyPeer: null,
                cancellationToken);
            var status = LocalSocketClient.Expect(response, SidecarResponse.ResponseOneofCase.Status).Status;
            await cli.Console.Out.WriteAsync(Format(status));
            return 0;
        }));
        return command;
    }

    internal static string Format(StatusResponse status)
    {
        var lines = new (string Label, string Value)[]
        {
            ("broker", status.BrokerUrl),
            ("connected", status.Connected ? "yes" : "no"),
            ("session", status.HasSession ? "yes" : "no (needs bootstrap)"),
            ("workspace", Or(status.WorkspaceId)),
            ("session expires", Time(status.SessionExpiresAt)),
            ("token expires", Time(status.TokenExpiresAt)),
            ("cached leases", status.CachedLeases.ToString()),
            ("revocation sequence", status.RevocationSequence.ToString()),
            ("last error", Or(status.LastError)),
        };
        return string.Concat(lines.Select(l => $"{l.Label + ":",-21}{l.Value}\n"));
    }

    private static string Or(string value) => value.Length == 0 ? "-" : value;

    private static string Time(Timestamp? timestamp) =>
        timestamp is null ? "-" : timestamp.ToDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:ssZ");
}
