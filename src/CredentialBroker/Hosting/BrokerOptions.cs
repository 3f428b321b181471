namespace Xares.Broker.Hosting;

/// <summary>Everything `xares-broker serve` is configured with, and its defaults (the README's option table).</summary>
internal sealed record BrokerOptions
{
    public string DataDirectory { get; init; } = "./data";
    public string? Database { get; init; }
    public string RestUrl { get; init; } = "http://127.0.0.1:7400";
    public string GrpcUrl { get; init; } = "http://127.0.0.1:7401";

    /// <summary>--docker: the engines the watcher follows, one watcher each; empty: watcher off.</summary>
    public IReadOnlyList<Docker.DockerEndpoint> DockerEngines { get; init; } = [];

    /// <summary>How often the Docker watcher reconciles while connected, as a safety net for missed events.</summary>
    public TimeSpan DockerResyncInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>--docker-claim-key-file: base64 key shared with the platform that signs xares.claim labels; unset: claims off.</summary>
    public string? DockerClaimKeyFile { get; init; }
    public string? MasterKeyBase64 { get; init; }
    public string? MasterKeyFile { get; init; }
    public string? TlsCertificateFile { get; init; }
    public string? TlsKeyFile { get; init; }

    /// <summary>--grpc-client-ca: PEM bundle of the CA(s) whose client certificates sidecars must present (mTLS on the gRPC listener).</summary>
    public string? GrpcClientCaFile { get; init; }

    /// <summary>--plaintext-behind-proxy: http:// listeners on non-public addresses, for TLS terminated by a proxy or mesh.</summary>
    public bool PlaintextBehindProxy { get; init; }

    public TimeSpan BootstrapTokenLifetime { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan SessionTokenLifetime { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan SessionMaxLifetime { get; init; } = TimeSpan.FromHours(24);
    public TimeSpan LeaseLifetime { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How long ended leases, sessions, bootstrap tokens and revocation records stay before retention deletes them.</summary>
    public TimeSpan EndedStateRetention { get; init; } = TimeSpan.FromDays(7);
    public TimeSpan InitialAdminKeyLifetime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>--log-level and --log-category-level.</summary>
    public LogSettings Logging { get; init; } = new();

    /// <summary>Reads the settings again (flags, variables and a fresh settings file) for SIGHUP; null when not started from a command line.</summary>
    public Func<BrokerOptions>? Reread { get; init; }

    /// <summary>--outbound-allow: CIDRs, addresses and host[:port] that credential tests may reach despite rule j.</summary>
    public IReadOnlyList<string> OutboundAllow { get; init; } = [];

    /// <summary>How often the background job re-tests each credential; zero turns the job off.</summary>
    public TimeSpan CredentialTestInterval { get; init; } = TimeSpan.FromHours(6);

    /// <summary>A minted upstream token (GitHub App installation token) is reused until this long before it expires, then a new one is minted.</summary>
    public TimeSpan MintedReuseMargin { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>--problem-type-base: what problem+json `type` URIs start with, before the slug (a section of docs/errors.md).</summary>
    public string ProblemTypeBase { get; init; } = Api.ProblemTypes.DefaultBase;

    /// <summary>A credential expiring within this window shows health "expiring".</summary>
    public TimeSpan CredentialExpiringWindow { get; init; } = TimeSpan.FromDays(14);

    /// <summary>The job's first pass waits this long, so a restarting fleet doesn't hit every provider at once.</summary>
    public TimeSpan CredentialTestStartDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Proxies (IPs or CIDRs) whose X-Forwarded-For is believed; empty: the TCP peer is the client.</summary>
    public IReadOnlyList<string> TrustedProxies { get; init; } = [];
    /// <summary>Failed REST authentications per window, per presented key and client address, before 429.</summary>
    public int AuthFailureLimit { get; init; } = 10;
    /// <summary>Failed REST authentications per window from one client address (any key), before 429.</summary>
    public int AuthFailureAddressLimit { get; init; } = 50;
    public TimeSpan AuthFailureWindow { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Auth failures per client are audited once, then as one summary record per this window.</summary>
    public TimeSpan AuthFailureAuditWindow { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>gRPC calls per second per sidecar session (token bucket refill); 0 turns the limit off.</summary>
    public int SessionRate { get; init; } = 100;
    /// <summary>gRPC calls a session may make at once (token bucket size).</summary>
    public int SessionBurst { get; init; } = 200;
    /// <summary>Session opens, revocation stream opens and lease revalidations being set up at once before more are shed.</summary>
    public int ConnectConcurrency { get; init; } = 128;
    /// <summary>Session opens and revocation stream opens admitted per second across all sidecars (bursts of one second's worth); 0 turns the rate off.</summary>
    public int ConnectRate { get; init; } = 1000;

    /// <summary>Largest REST body or gRPC message accepted; credentials are small.</summary>
    public int MaxRequestBytes { get; init; } = 64 * 1024;

    /// <summary>The web UI and its OpenID Connect sign-in (--ui-*); off unless an issuer is set.</summary>
    public WebUi.WebUiSettings Ui { get; init; } = new();

    /// <summary>--otlp-endpoint: the OpenTelemetry collector traces are exported to; null: tracing off.</summary>
    public Uri? OtlpEndpoint { get; init; }

    public OpenTelemetry.Exporter.OtlpExportProtocol OtlpProtocol { get; init; } = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;

    /// <summary>Audit checkpoints, retention and suspicious-activity flags.</summary>
    public Audit.AuditSettings Audit { get; init; } = new();

    public string DatabaseConnectionString =>
        Database ?? $"Data Source={Path.Combine(DataDirectory, "xares.db")}";

    public string InitialAdminKeyPath => Path.Combine(DataDirectory, "initial-admin-key");

    // A record prints every member: the master key, and a PostgreSQL password in the connection string.
    public override string ToString() =>
        $"{nameof(BrokerOptions)} {{ DataDirectory = {DataDirectory}, Database = {WithoutPassword(DatabaseConnectionString)}, RestUrl = {RestUrl}, GrpcUrl = {GrpcUrl}, " +
        $"Docker = [{string.Join(", ", DockerEngines)}], MasterKey = {(MasterKeyBase64 is null ? MasterKeyFile ?? "(data directory)" : "[redacted]")} }}";

    private static string WithoutPassword(string connectionString)
    {
        try
        {
            var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in builder.Keys.Cast<string>().Where(k => k.Equals("password", StringComparison.OrdinalIgnoreCase) || k.Equals("pwd", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                builder[key] = "[redacted]";
            }
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "[unparsable connection string]";
        }
    }
}
