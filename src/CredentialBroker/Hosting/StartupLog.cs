namespace Xares.Broker.Hosting;

internal static partial class StartupLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Database {DataSource} at schema version {SchemaVersion}; keyring version {KeyVersion}; master key from {MasterKeySource}")]
    public static partial void Opened(ILogger logger, string dataSource, int schemaVersion, int keyVersion, string masterKeySource);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "DEVELOPMENT MASTER KEY {Action}: {MasterKeySource}. Anyone who reads this file and the database can decrypt every secret. Set XARES_MASTER_KEY or XARES_MASTER_KEY_FILE in production.")]
    public static partial void DevelopmentMasterKey(ILogger logger, string masterKeySource, string action);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "Data directory {DataDirectory} is mode {Mode}: group or others can reach the database and key files. chmod 700 it unless that is intended.")]
    public static partial void DataDirectoryOpen(ILogger logger, string dataDirectory, string mode);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "PLAINTEXT LISTENER {Url} (--plaintext-behind-proxy): API keys, session tokens and secrets cross this hop unencrypted. Only a proxy, ingress or mesh sidecar that terminates TLS may reach it; list it with --trusted-proxy so client addresses are right.")]
    public static partial void PlaintextBehindProxy(ILogger logger, string url);
}
