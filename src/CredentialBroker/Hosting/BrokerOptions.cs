namespace Xares.Broker.Hosting;

/// <summary>Everything `xares-broker serve` is configured with (design.md §6), with the issue's defaults.</summary>
internal sealed record BrokerOptions
{
    public string DataDirectory { get; init; } = "./data";
    public string? Database { get; init; }
    public string RestUrl { get; init; } = "http://127.0.0.1:7400";
    public string GrpcUrl { get; init; } = "http://127.0.0.1:7401";
    public string? Docker { get; init; }
    public string? MasterKeyBase64 { get; init; }
    public string? MasterKeyFile { get; init; }
    public string? TlsCertificateFile { get; init; }
    public string? TlsKeyFile { get; init; }

    public TimeSpan BootstrapTokenLifetime { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan SessionTokenLifetime { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan SessionMaxLifetime { get; init; } = TimeSpan.FromHours(24);
    public TimeSpan LeaseLifetime { get; init; } = TimeSpan.FromMinutes(15);
    public TimeSpan InitialAdminKeyLifetime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Largest REST body or gRPC message accepted; credentials are small.</summary>
    public int MaxRequestBytes { get; init; } = 64 * 1024;

    /// <summary>Audit checkpoints, retention and suspicious-activity flags.</summary>
    public Audit.AuditSettings Audit { get; init; } = new();

    public string DatabaseConnectionString =>
        Database ?? $"Data Source={Path.Combine(DataDirectory, "xares.db")}";

    public string InitialAdminKeyPath => Path.Combine(DataDirectory, "initial-admin-key");
}
