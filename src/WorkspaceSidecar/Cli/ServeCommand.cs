using System.CommandLine;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Native;

namespace Xares.Sidecar.Cli;

internal static class ServeCommand
{
    public const string BrokerVariable = "XARES_BROKER_URL";
    public const string BootstrapTokenFileVariable = "XARES_BOOTSTRAP_TOKEN_FILE";
    public const string DefaultBootstrapTokenFile = "/run/xares/bootstrap-token";
    public const string BrokerCaVariable = "XARES_BROKER_CA_FILE";
    public const string ClientCertVariable = "XARES_BROKER_CLIENT_CERT";
    public const string ClientKeyVariable = "XARES_BROKER_CLIENT_KEY";

    public static Command Create(SidecarCli cli)
    {
        var env = cli.Environment;
        var broker = new Option<string[]>("--broker")
        {
            Description = $"Broker gRPC URL; a comma-separated list is accepted (env {BrokerVariable}). https://, or http:// on loopback only",
        };
        var tokenFile = new Option<string>("--bootstrap-token-file")
        {
            Description = $"File holding a bootstrap token; read and deleted at start (env {BootstrapTokenFileVariable})",
            DefaultValueFactory = _ => env(BootstrapTokenFileVariable) is { Length: > 0 } path ? path : DefaultBootstrapTokenFile,
        };
        var socket = cli.SocketOption();
        var allowUid = new Option<uint[]>("--allow-uid")
        {
            Description = "Another uid that may use the socket (repeatable); the sidecar's own uid always may",
        };
        var socketGroup = new Option<uint?>("--socket-group")
        {
            Description = "Numeric gid given read/write access to the socket (mode 0660, directory 0750)",
        };
        var brokerCa = new Option<string>("--broker-ca")
        {
            Description = $"PEM bundle of the CA(s) that signed the broker's certificate, instead of the system's roots (env {BrokerCaVariable})",
        };
        var clientCert = new Option<string>("--broker-client-cert")
        {
            Description = $"PEM client certificate for a broker that requires mTLS (env {ClientCertVariable}); needs --broker-client-key",
        };
        var clientKey = new Option<string>("--broker-client-key")
        {
            Description = $"PEM private key of --broker-client-cert (env {ClientKeyVariable})",
        };
        var command = new Command("serve", "Run the sidecar: broker session, lease cache and the local socket")
        {
            broker, tokenFile, socket, allowUid, socketGroup, brokerCa, clientCert, clientKey,
        };
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var given = parse.GetValue(broker) ?? [];
            var transport = new BrokerTransport(
                parse.GetValue(brokerCa) ?? NonEmpty(env(BrokerCaVariable)),
                parse.GetValue(clientCert) ?? NonEmpty(env(ClientCertVariable)),
                parse.GetValue(clientKey) ?? NonEmpty(env(ClientKeyVariable)),
                PlaintextMesh(env(BrokerAddresses.PlaintextMeshVariable)));
            var brokers = BrokerAddresses.Parse(given.Length > 0 ? given : env(BrokerVariable) is { Length: > 0 } fromEnv ? [fromEnv] : [], transport.PlaintextMesh);
            var settings = new SidecarSettings(
                brokers,
                parse.GetRequiredValue(tokenFile),
                parse.GetRequiredValue(socket),
                parse.GetValue(allowUid) ?? [],
                parse.GetValue(socketGroup),
                transport);
            if (cli.HardenProcess)
            {
                ProcessHardening.Apply();
            }
            using var loggers = SidecarLogging.Create(env(SidecarLogging.LevelVariable), env(SidecarLogging.CategoryLevelsVariable));
            await using var runtime = SidecarRuntime.Start(settings, loggers);
            await runtime.RunAsync(cancellationToken);
            return 0;
        }));
        return command;
    }

    private static string? NonEmpty(string? value) => value is { Length: > 0 } ? value : null;

    private static bool PlaintextMesh(string? value) => value switch
    {
        null or "" or "false" => false,
        "true" => true,
        _ => throw SidecarException.Setting($"{BrokerAddresses.PlaintextMeshVariable} must be true or false"),
    };
}
