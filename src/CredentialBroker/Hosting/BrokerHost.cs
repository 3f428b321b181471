using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Prometheus;
using Serilog;
using Serilog.Formatting.Compact;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Docker;
using Xares.Broker.Leases;
using Xares.Broker.RateLimiting;
using Xares.Broker.Retention;
using Xares.Broker.Sidecars;
using Xares.Broker.Workspaces;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;
using Xares.Broker.Vault;
using Xares.Broker.WebUi;

namespace Xares.Broker.Hosting;

/// <summary>The composition root of `xares-broker serve`: storage, vault, audit, REST and gRPC.</summary>
internal static class BrokerHost
{
    public static WebApplication Build(BrokerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        BrokerMetrics.Configure();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        var logLevels = new LogLevelSwitches(options.Logging);
        builder.Host.UseSerilog((_, provider, logger) => logLevels.Apply(logger)
            .Enrich.FromLogContext()
            .WriteTo.Console(new RenderedCompactJsonFormatter())
            .ReadFrom.Services(provider), // sinks registered in DI (tests capture log events this way)
            preserveStaticLogger: true); // each host logs through its own pipeline, not the process-wide Log.Logger
        var certificate = new TlsCertificate();
        ConfigureKestrel(builder, options, certificate);
        // Stopping waits this long for in-flight requests (and then the write queue drains on dispose).
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(15));

        // Storage and keys are opened before anything serves, so a bad master key or an
        // unreachable database stops the start with a clear message.
        var looseDataDirectory = DatabaseFiles.CreateDirectory(options.DataDirectory);
        var database = new Database(options.DatabaseConnectionString);
        var schemaVersion = new Migrator(database).Migrate();
        var masterKey = MasterKey.Load(options.MasterKeyBase64, options.MasterKeyFile, options.DataDirectory);
        if (masterKey.IsDevelopmentKey && !(IsLoopback(options.RestUrl) && IsLoopback(options.GrpcUrl)))
        {
            throw new InvalidOperationException("Listening beyond loopback needs an explicit master key (XARES_MASTER_KEY or XARES_MASTER_KEY_FILE).");
        }
        var keyring = Keyring.LoadOrCreate(database, masterKey, TimeProvider.System);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(logLevels).AddSingleton(certificate).AddHostedService<HangupReload>();
        services.AddSingleton(TimeProvider.System);
        services.AddStorageAndVault(database, keyring);
        services.AddProblemDetails();
        services.AddRequestIds();
        services.AddProblemTypes(options.ProblemTypeBase);
        services.AddRateLimits(options);
        services.AddExceptionHandler<ProblemMapping>();
        services.AddSingleton<Api.Idempotency.IdempotentRequests>();
        // API keys are the default (REST); the web UI's cookie and OpenID Connect schemes serve /ui only.
        var authentication = services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddWebUi(options, authentication);
        services.AddScopePolicies();
        services.AddBrokerOpenApi();
        services.AddSingleton<ApiKeyStore>();
        services.AddHostedService<InitialAdminKey>();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxRequestBytes;
            grpc.Interceptors.Add<GrpcExceptionInterceptor>();
            grpc.Interceptors.Add<SessionRateLimitInterceptor>();
            // After the per-session buckets: made-up tokens spend their address's bucket, not the fleet's admissions.
            grpc.Interceptors.Add<ConnectionAdmissionInterceptor>();
        });
        services.AddGrpcHealthChecks().AddAsyncCheck("database", _ => Readiness.DatabaseHealthAsync(database));
        services.AddWorkspaces().AddLeases().AddSidecarBroker();
        services.AddDockerWatcher(options);
        services.AddAuditOperations();
        services.AddBrokerTracing(options);
        services.AddSingleton<EndedStatePruner>().AddHostedService<EndedStateRetentionService>();
        // Feature registrations
        Users.UserEndpoints.AddUsers(services);
        Credentials.CredentialEndpoints.AddCredentials(services);
        CredentialHealth.CredentialHealthEndpoints.AddCredentialHealth(services, options);
        Minted.GitHubAppEndpoints.AddMintedCredentials(services);
        Connections.ConnectionEndpoints.AddConnections(services);
        configure?.Invoke(builder);

        var app = builder.Build();
        StartupLog.Opened(app.Logger, database.DataSource, schemaVersion, keyring.CurrentVersion, masterKey.Source);
        if (looseDataDirectory is { } mode)
        {
            StartupLog.DataDirectoryOpen(app.Logger, options.DataDirectory, Convert.ToString((int)mode, 8).PadLeft(4, '0'));
        }
        foreach (var url in new[] { options.RestUrl, options.GrpcUrl }.Where(u => u.StartsWith("http:", StringComparison.Ordinal) && !IsLoopback(u)))
        {
            StartupLog.PlaintextBehindProxy(app.Logger, url);
        }
        if (masterKey.IsDevelopmentKey)
        {
            StartupLog.DevelopmentMasterKey(app.Logger, masterKey.Source, masterKey.WasGenerated ? "created" : "read");
        }
        app.UseTrustedProxies(options);
        app.UseRequestIds();
        app.UseAccessLog();
        app.UseNoStoreForApi();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHttpMetrics();
        app.UseScrapeTimeMetrics("/metrics");
        app.UseAuthFailureThrottle();
        app.UseWebUi(options);
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("ok")));
        app.MapGet("/readyz", (Database database, Keyring keyring) => Readiness.Check(database, keyring));
        app.MapMetrics("/metrics");
        app.MapBrokerOpenApi();
        app.MapProblemTypesPage();
        app.MapGrpcService<SidecarBrokerGrpcService>();
        app.MapGrpcHealthChecksService();
        var api = app.MapGroup("/api/v1");
        api.MapWorkspaces();
        api.MapLeases();
        // Feature endpoints
        Users.UserEndpoints.MapUsers(api);
        Credentials.CredentialEndpoints.MapCredentials(api);
        CredentialHealth.CredentialHealthEndpoints.MapCredentialHealth(api);
        Minted.GitHubAppEndpoints.MapGitHubApps(api);
        Connections.ConnectionEndpoints.MapConnections(api);
        api.MapApiKeys();
        api.MapAudit();
        app.MapWebUi(options);
        return app;
    }

    private static IServiceCollection AddStorageAndVault(this IServiceCollection services, Database database, Keyring keyring)
    {
        services.AddSingleton(_ => database); // a factory registration: the host disposes it (closes the PostgreSQL pool)
        services.AddSingleton(keyring);
        services.AddSingleton<RevocationSignal>();
        // Resolving the Database first makes the container dispose it after the queue has drained.
        // Required audit devices take each batch's records just before its COMMIT (fail closed).
        services.AddSingleton(sp => new Audit.Devices.AuditDevices(sp.GetRequiredService<BrokerOptions>().Audit,
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>(), TimeProvider.System,
            sp.GetRequiredService<ILogger<Audit.Devices.AuditDevices>>()));
        services.AddSingleton(sp => new WriteQueue(sp.GetRequiredService<Database>(), sp.GetRequiredService<RevocationSignal>().PulseIfPending,
            sp.GetRequiredService<Audit.Devices.AuditDevices>().WriteRequired));
        services.AddSingleton<RevocationLog>();
        if (database.Kind == DatabaseKind.Postgres)
        {
            services.AddHostedService<RevocationListener>(); // revocations from other replicas
        }
        services.AddSingleton<AuditChain>();
        services.AddSingleton<Minted.MintedTokenRevocation>();
        services.AddSingleton<LeaseRevocation>();
        return services;
    }

    private static bool IsLoopback(string url)
    {
        var host = new Uri(url).Host;
        return host is "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>
    /// Pending connections the kernel holds for each listener. A broker restart brings every
    /// sidecar back within seconds; at the default 512 the queue overflowed under 10,000 of them
    /// and the dropped SYNs cost each sidecar a retransmit (1 s, then 3 s) or its 2 s connect
    /// timeout. The kernel takes the smaller of this and net.core.somaxconn (4096 by default).
    /// </summary>
    internal const int ListenBacklog = 8192;

    private static void ConfigureKestrel(WebApplicationBuilder builder, BrokerOptions options, TlsCertificate certificate)
    {
        builder.WebHost.UseSockets(sockets => sockets.Backlog = ListenBacklog);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            // HTTP/2 for REST only where TLS can negotiate it; cleartext REST is HTTP/1.1.
            Listen(kestrel, options.RestUrl, options.RestUrl.StartsWith("https:", StringComparison.Ordinal) ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1, options, certificate);
            // Cleartext gRPC needs HTTP/2 with prior knowledge, so this listener speaks only HTTP/2.
            Listen(kestrel, options.GrpcUrl, HttpProtocols.Http2, options, certificate, SidecarClientCertificates.Load(options.GrpcClientCaFile));
        });
    }

    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols, BrokerOptions options, TlsCertificate certificate,
        SidecarClientCertificates? clientCertificates = null)
    {
        var uri = new Uri(url);
        var secure = uri.Scheme == Uri.UriSchemeHttps;
        var address = uri.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(uri.Host.Trim('[', ']'));
        if (clientCertificates is not null && !secure)
        {
            throw new InvalidOperationException($"--grpc-client-ca needs an https:// gRPC listener, not {url}.");
        }
        // Nothing but loopback without TLS, unless TLS ends in a proxy or mesh in front (README, Listeners).
        if (!secure && PlaintextListeners.Refusal(address, options.PlaintextBehindProxy) is { } refusal)
        {
            throw new InvalidOperationException($"Refusing to listen on {url} without TLS: {refusal}.");
        }
        kestrel.Listen(address, uri.Port, listen =>
        {
            listen.Protocols = protocols;
            if (secure)
            {
                if (!certificate.Loaded)
                {
                    certificate.Load(options.TlsCertificateFile, options.TlsKeyFile, url);
                }
                // Asked at each handshake, so a SIGHUP reload reaches new connections.
                listen.UseHttps(https =>
                {
                    https.ServerCertificateSelector = (_, _) => certificate.Current;
                    clientCertificates?.Require(https);
                });
            }
        });
    }
}
