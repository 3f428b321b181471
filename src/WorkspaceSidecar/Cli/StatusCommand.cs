using System.CommandLine;
using Google.Protobuf.WellKnownTypes;
using Xares.CommandLine;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Local;

namespace Xares.Sidecar.Cli;

/// <summary>
/// `xares-sidecar status [--json]`: what the sidecar holds, never a secret. The exit code carries
/// the state for scripts: 0 connected with a session, 3 not connected, 4 no session.
/// </summary>
internal static class StatusCommand
{
    public static Command Create(SidecarCli cli)
    {
        var socket = cli.SocketOption();
        var json = JsonOutput.Option();
        var command = new Command("status", "Show the sidecar's broker connection, session and cache (never a secret); exit 3: not connected, 4: no session")
        {
            socket, json,
        };
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var response = await LocalSocketClient.SendAsync(
                parse.GetRequiredValue(socket),
                new SidecarRequest { Status = new StatusRequest() },
                verifyPeer: null,
                cancellationToken);
            var status = LocalSocketClient.Expect(response, SidecarResponse.ResponseOneofCase.Status).Status;
            if (parse.GetValue(json))
            {
                await CliJson.WriteAsync(cli.Console.Out, Report(status), CliJson.Default.StatusReport);
            }
            else
            {
                await cli.Console.Out.WriteAsync(Format(status));
            }
            return ExitCode(status);
        }));
        return command;
    }

    /// <summary>No session outranks no connection: without a session nothing new can be served at all.</summary>
    internal static int ExitCode(StatusResponse status) =>
        !status.HasSession ? ExitCodes.NoSession
        : !status.Connected ? ExitCodes.NotConnected
        : ExitCodes.Success;

    internal static StatusReport Report(StatusResponse status) => new(
        status.BrokerUrl,
        status.Connected,
        status.HasSession,
        OrNull(status.WorkspaceId),
        status.SessionExpiresAt?.ToDateTime(),
        status.TokenExpiresAt?.ToDateTime(),
        status.CachedLeases,
        status.RevocationSequence,
        OrNull(status.LastError));

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

    private static string? OrNull(string value) => value.Length == 0 ? null : value;

    private static string Or(string value) => value.Length == 0 ? "-" : value;

    private static string Time(Timestamp? timestamp) =>
        timestamp is null ? "-" : timestamp.ToDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:ssZ");
}
