using System.CommandLine;
using System.Text.Json;
using Xares.CommandLine;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Docker;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Hosting;

/// <summary>`xares-broker [serve] | migrate | audit verify | admin create-key | keys … | health | completion`, options also read from XARES_* variables.</summary>
internal static class BrokerCommandLine
{
    public const string Program = "xares-broker";

    private static readonly Option<string> DataDir = new("--data-dir") { Description = "Data directory (env XARES_DATA_DIR).", Recursive = true };
    private static readonly Option<string> DatabaseOption = new("--database") { Description = "Connection string (env XARES_DATABASE).", Recursive = true };
    private static readonly Option<string> RestUrl = new("--rest-url") { Description = "REST listener (env XARES_REST_URL)." };
    private static readonly Option<string> GrpcUrl = new("--grpc-url") { Description = "gRPC listener for sidecars (env XARES_GRPC_URL)." };
    private static readonly Option<string> DockerClaimKeyFile = new("--docker-claim-key-file")
    {
        Description = "File with the base64 key (32+ bytes) the platform signs xares.claim container labels with; unset: claims off (env XARES_DOCKER_CLAIM_KEY_FILE).",
    };
    private static readonly Option<string> TlsCert = new("--tls-cert") { Description = "PEM certificate for https listeners (env XARES_TLS_CERT)." };
    private static readonly Option<string> TlsKey = new("--tls-key") { Description = "PEM private key for https listeners (env XARES_TLS_KEY)." };
    private static readonly Option<string> GrpcClientCa = new("--grpc-client-ca")
    {
        Description = "PEM bundle of the CA(s) whose client certificates sidecars must present on the https gRPC listener (mTLS; env XARES_GRPC_CLIENT_CA).",
    };
    private static readonly Option<bool?> PlaintextBehindProxy = new("--plaintext-behind-proxy")
    {
        Description = "Allow http:// listeners on private addresses because a proxy, ingress or mesh terminates TLS in front (env XARES_PLAINTEXT_BEHIND_PROXY=true).",
    };
    private static readonly Option<int?> LeaseTtl = new("--lease-ttl-seconds") { Description = "Lease lifetime (env XARES_LEASE_TTL_SECONDS, default 900)." };
    private static readonly Option<int?> SessionTtl = new("--session-ttl-seconds") { Description = "Session token lifetime before refresh (env XARES_SESSION_TTL_SECONDS, default 3600)." };
    private static readonly Option<string[]> OutboundAllow = new("--outbound-allow")
    {
        Description = "CIDRs, addresses or host[:port] credential tests may reach although private or loopback; repeat it or separate with commas (env XARES_OUTBOUND_ALLOW).",
    };
    private static readonly Option<int?> CredentialTestInterval = new("--credential-test-interval-minutes")
    {
        Description = "Re-test every credential this often; 0 turns the job off (env XARES_CREDENTIAL_TEST_INTERVAL_MINUTES, default 360).",
    };
    private static readonly Option<int?> MintedReuseMargin = new("--minted-reuse-margin-seconds")
    {
        Description = "Reuse a minted GitHub App installation token until this many seconds before it expires (env XARES_MINTED_REUSE_MARGIN_SECONDS, default 300).",
    };
    private static readonly Option<int?> ExpiringDays = new("--credential-expiring-days")
    {
        Description = "Health shows \"expiring\" this many days before expiry (env XARES_CREDENTIAL_EXPIRING_DAYS, default 14).",
    };
    private static readonly Option<int?> EndedRetentionDays = new("--ended-retention-days")
    {
        Description = "Delete leases, sessions, bootstrap tokens and revocation records this many days after they ended (env XARES_ENDED_RETENTION_DAYS, default 7).",
    };
    private static readonly Option<string> ProblemTypeBase = new("--problem-type-base")
    {
        Description = "Prefix of problem+json type URIs, to which each error's slug is appended (env XARES_PROBLEM_TYPE_BASE, default /docs/errors#: the page the broker serves).",
    };
    private static readonly Option<int?> BootstrapTtl = new("--bootstrap-ttl-seconds") { Description = "Bootstrap token lifetime (env XARES_BOOTSTRAP_TTL_SECONDS, default 600)." };

    /// <summary>Parses and runs; a command line that does not parse is one line and a hint (exit 2), not the whole help.</summary>
    public static Task<int> RunAsync(string[] args, InvocationConfiguration configuration, CancellationToken cancellationToken = default)
    {
        var parse = Create().Parse(args);
        var error = configuration.Error ?? Console.Error;
        return UsageErrors.Report(parse, Program, error) ? Task.FromResult(ExitCodes.Usage) : parse.InvokeAsync(configuration, cancellationToken);
    }

    public static RootCommand Create()
    {
        var serve = new Command("serve", "Run the broker (REST and gRPC).") { RestUrl, GrpcUrl, DockerClaimKeyFile, TlsCert, TlsKey, GrpcClientCa, PlaintextBehindProxy, LeaseTtl, SessionTtl, BootstrapTtl, EndedRetentionDays, OutboundAllow, CredentialTestInterval, ExpiringDays, MintedReuseMargin };
        foreach (var option in RateLimiting.RateLimitCommandLine.Options)
        {
            serve.Options.Add(option);
        }
        foreach (var option in AuditCommandLine.ServeOptions.Concat(LoggingCommandLine.Options).Concat(WebUi.WebUiCommandLine.Options)
                     .Concat(DockerCommandLine.Options).Concat(TracingCommandLine.Options))
        {
            serve.Options.Add(option);
        }
        serve.Options.Add(ProblemTypeBase);
        serve.SetAction((parse, ct) => ServeAsync(Read(parse), ct));

        var migrate = new Command("migrate", "Apply database migrations and exit.");
        migrate.SetAction(parse =>
        {
            var version = new Migrator(new Database(Read(parse).DatabaseConnectionString)).Migrate();
            parse.InvocationConfiguration.Output.WriteLine($"Schema is at version {version}.");
            return 0;
        });

        var backupTo = new Option<string>("--to") { Description = "The backup file to create (never overwritten).", Required = true };
        var backup = new Command("backup", "Write a consistent online backup of the SQLite database (PostgreSQL: use pg_dump).") { backupTo };
        backup.SetAction(parse => Backup(Read(parse), parse.GetValue(backupTo)!, parse.InvocationConfiguration));

        var verifyJson = JsonOutput.Option();
        var verify = new Command("verify", "Verify the audit chain and the checkpoint file; exit 5 at the first problem.") { AuditCommandLine.CheckpointFile, verifyJson };
        verify.SetAction(parse => VerifyAudit(Read(parse), parse.GetValue(verifyJson), parse.InvocationConfiguration));
        var audit = new Command("audit", "Audit log operations.") { verify };

        var keyName = new Option<string>("--name") { Description = "A name for the key.", DefaultValueFactory = _ => "admin" };
        var keyExpiresIn = new Option<string>("--expires-in")
        {
            Description = $"How long the key lasts, e.g. 90d, 12h or 30m (default {ApiKeyLifetime.Default.TotalDays:0}d, at most {ApiKeyLifetime.Max.TotalDays:0}d, as for POST /api/v1/api-keys).",
        };
        var createKey = new Command("create-key", "Mint an expiring admin API key (prints it once on stdout).") { keyName, keyExpiresIn };
        createKey.SetAction(parse => CreateAdminKey(Read(parse), parse.GetValue(keyName)!, parse.GetValue(keyExpiresIn), parse.InvocationConfiguration));
        var admin = new Command("admin", "Local administration with direct database access.") { createKey };

        var rotate = new Command("rotate", "Add a key-encryption key version and re-wrap every data key under it (online, resumable).");
        rotate.SetAction(parse => KeyOperation(parse, () => RotateKeys(Read(parse), parse.InvocationConfiguration)));
        var rekey = new Command("rekey", "Re-wrap the keyring under a new master key from XARES_NEW_MASTER_KEY or XARES_NEW_MASTER_KEY_FILE.");
        rekey.SetAction(parse => KeyOperation(parse, () => RekeyKeys(Read(parse), parse.InvocationConfiguration)));
        var statusJson = JsonOutput.Option();
        var status = new Command("status", "Show keyring versions, what each protects, and which are prunable.") { statusJson };
        status.SetAction(parse => KeyStatus(Read(parse), parse.GetValue(statusJson), parse.InvocationConfiguration));
        var prune = new Command("prune", "Delete key-encryption key versions no credential or audit record uses any more (never the current one).");
        prune.SetAction(parse => KeyOperation(parse, () => PruneKeys(Read(parse), parse.InvocationConfiguration)));
        var keys = new Command("keys", "Key management (one key operation at a time).") { rotate, rekey, status, prune };

        var root = new RootCommand("Xares credential broker.") { SettingsFile.Option, DataDir, DatabaseOption, serve, migrate, backup, audit, admin, keys, DockerClaimCommand(), ReadinessProbe.Command(), CompletionCommand.Create(Program) };
        foreach (var option in serve.Options)
        {
            root.Options.Add(option);
        }
        root.SetAction((parse, ct) => ServeAsync(Read(parse), ct));
        return root;
    }

    /// <summary>`xares-broker docker claim`: signs an xares.claim label for a platform's container (no database access).</summary>
    private static Command DockerClaimCommand()
    {
        var user = new Option<string>("--user") { Description = "The user the workspace is for (usr_…).", Required = true };
        var name = new Option<string>("--name") { Description = "The workspace name.", Required = true };
        var hosts = new Option<string[]>("--allowed-host") { Description = "An allowedHosts pattern (host[:port] or *.domain); repeat it. Absent: every host." };
        var ttl = new Option<int>("--ttl-seconds") { Description = "How long the claim may create its workspace.", DefaultValueFactory = _ => 600 };
        var id = new Option<string>("--id") { Description = "The claim id (16-128 of A-Z a-z 0-9 - _); default: random." };
        var keyFile = new Option<string>("--key-file") { Description = "The claim key file (env XARES_DOCKER_CLAIM_KEY_FILE)." };
        var claim = new Command("claim", "Print a signed xares.claim label value on stdout (and the workspace id it creates on stderr).") { user, name, hosts, ttl, id, keyFile };
        claim.SetAction(parse =>
        {
            var path = parse.GetValue(keyFile) ?? OptionValues.Text(parse, "XARES_DOCKER_CLAIM_KEY_FILE", "docker-claim-key-file");
            if (path is not { Length: > 0 })
            {
                parse.InvocationConfiguration.Error.WriteLine("xares-broker: a claim key is needed: --key-file FILE or XARES_DOCKER_CLAIM_KEY_FILE.");
                return ExitCodes.Usage;
            }
            WorkspaceClaims signer;
            try
            {
                signer = WorkspaceClaims.FromKeyFile(path);
            }
            catch (InvalidOperationException ex)
            {
                parse.InvocationConfiguration.Error.WriteLine($"xares-broker: {ex.Message}");
                return ExitCodes.Failure;
            }
            var request = new WorkspaceClaim(parse.GetValue(id) ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
                parse.GetValue(user)!, parse.GetValue(name)!, parse.GetValue(hosts) is { Length: > 0 } patterns ? patterns : null,
                DateTimeOffset.UtcNow.AddSeconds(parse.GetValue(ttl)));
            var label = signer.Sign(request);
            if (signer.TryRead(label, out _) != ClaimProblem.None)
            {
                parse.InvocationConfiguration.Error.WriteLine("xares-broker: the claim is not valid: check --id, --name and --allowed-host.");
                return ExitCodes.Usage;
            }
            parse.InvocationConfiguration.Error.WriteLine($"Claim {request.Id} creates workspace {request.WorkspaceId}.");
            parse.InvocationConfiguration.Output.WriteLine(label);
            return 0;
        });
        return new Command("docker", "Docker watcher helpers.") { claim };
    }

    internal static BrokerOptions Read(ParseResult parse)
    {
        string? Text(Option<string> option, string env) => OptionValues.Text(parse, option, env);
        // A lifetime or interval from the option or its variable, in the option's unit; out of range stops the start.
        TimeSpan Scaled(Option<int?> option, string env, Func<double, TimeSpan> unit, double minimum, double maximum, TimeSpan fallback) =>
            OptionValues.Number(parse, option, env, minimum, maximum) is { } value ? unit(value) : fallback;
        TimeSpan Seconds(Option<int?> option, string env, TimeSpan fallback) =>
            Scaled(option, env, TimeSpan.FromSeconds, 1, OptionValues.MaxIntervalSeconds, fallback);
        TimeSpan Days(Option<int?> option, string env, double minimum, TimeSpan fallback) =>
            Scaled(option, env, TimeSpan.FromDays, minimum, OptionValues.MaxRetentionDays, fallback);

        var defaults = new BrokerOptions();
        var read = RateLimiting.RateLimitCommandLine.Read(parse, TracingCommandLine.Read(parse, new BrokerOptions
        {
            DataDirectory = Text(DataDir, "XARES_DATA_DIR") ?? defaults.DataDirectory,
            Database = Text(DatabaseOption, "XARES_DATABASE"),
            RestUrl = Text(RestUrl, "XARES_REST_URL") ?? defaults.RestUrl,
            GrpcUrl = Text(GrpcUrl, "XARES_GRPC_URL") ?? defaults.GrpcUrl,
            DockerEngines = DockerCommandLine.Read(parse),
            DockerClaimKeyFile = Text(DockerClaimKeyFile, "XARES_DOCKER_CLAIM_KEY_FILE"),
            TlsCertificateFile = Text(TlsCert, "XARES_TLS_CERT"),
            TlsKeyFile = Text(TlsKey, "XARES_TLS_KEY"),
            GrpcClientCaFile = Text(GrpcClientCa, "XARES_GRPC_CLIENT_CA"),
            PlaintextBehindProxy = OptionValues.Flag(parse, PlaintextBehindProxy, "XARES_PLAINTEXT_BEHIND_PROXY"),
            // The master key itself only from the environment; a file may name the file holding it.
            MasterKeyBase64 = OptionValues.Env("XARES_MASTER_KEY"),
            MasterKeyFile = OptionValues.Text(parse, "XARES_MASTER_KEY_FILE", "master-key-file"),
            LeaseLifetime = Seconds(LeaseTtl, "XARES_LEASE_TTL_SECONDS", defaults.LeaseLifetime),
            SessionTokenLifetime = Seconds(SessionTtl, "XARES_SESSION_TTL_SECONDS", defaults.SessionTokenLifetime),
            BootstrapTokenLifetime = Seconds(BootstrapTtl, "XARES_BOOTSTRAP_TTL_SECONDS", defaults.BootstrapTokenLifetime),
            EndedStateRetention = Days(EndedRetentionDays, "XARES_ENDED_RETENTION_DAYS", 1, defaults.EndedStateRetention),
            OutboundAllow = OptionValues.Texts(parse, OutboundAllow, "XARES_OUTBOUND_ALLOW"),
            CredentialTestInterval = Scaled(CredentialTestInterval, "XARES_CREDENTIAL_TEST_INTERVAL_MINUTES", TimeSpan.FromMinutes, 0,
                OptionValues.MaxIntervalSeconds / 60, defaults.CredentialTestInterval),
            MintedReuseMargin = Scaled(MintedReuseMargin, "XARES_MINTED_REUSE_MARGIN_SECONDS", TimeSpan.FromSeconds, 0, 3000, defaults.MintedReuseMargin),
            CredentialExpiringWindow = Days(ExpiringDays, "XARES_CREDENTIAL_EXPIRING_DAYS", 0, defaults.CredentialExpiringWindow),
            ProblemTypeBase = Text(ProblemTypeBase, "XARES_PROBLEM_TYPE_BASE") ?? defaults.ProblemTypeBase,
            Audit = AuditCommandLine.Read(parse),
            Logging = LoggingCommandLine.Read(parse),
            Ui = WebUi.WebUiCommandLine.Read(parse),
        }));
        SettingsFile.For(parse).ThrowIfErrors();
        return read with
        {
            // SIGHUP: the same flags and variables over a fresh read of the settings file.
            Reread = () =>
            {
                SettingsFile.Reread(parse);
                return Read(parse);
            },
        };
    }

    private static async Task<int> ServeAsync(BrokerOptions options, CancellationToken cancellationToken)
    {
        var app = BrokerHost.Build(options);
        await app.RunAsync(cancellationToken);
        return 0;
    }

    private static (Database Database, Keyring Keyring) OpenVault(BrokerOptions options)
    {
        var database = new Database(options.DatabaseConnectionString);
        new Migrator(database).Migrate();
        var masterKey = MasterKey.Load(options.MasterKeyBase64, options.MasterKeyFile, options.DataDirectory);
        return (database, Keyring.LoadOrCreate(database, masterKey, TimeProvider.System));
    }

    private static KeyRotation OpenRotation(BrokerOptions options)
    {
        var (database, keyring) = OpenVault(options);
        // Test-only: the crash tests slow each re-wrap batch down so they can kill the process mid-way.
        var batchDelay = Environment.GetEnvironmentVariable("XARES_TEST_KEYS_BATCH_DELAY_MS") is { Length: > 0 } ms ? TimeSpan.FromMilliseconds(int.Parse(ms)) : TimeSpan.Zero;
        return new KeyRotation(database, keyring, new AuditChain(keyring, TimeProvider.System)) { BatchDelay = batchDelay };
    }

    // A refused key operation (lock held, rotation unfinished, lock lost) is an operator's answer, not a crash.
    private static int KeyOperation(ParseResult parse, Func<int> operation)
    {
        try
        {
            return operation();
        }
        catch (InvalidOperationException e)
        {
            parse.InvocationConfiguration.Error.WriteLine($"xares: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    private static int RotateKeys(BrokerOptions options, InvocationConfiguration console)
    {
        // Redraw the progress bar in place only on a terminal; logs and pipes get plain lines.
        var redraw = console.Output == Console.Out && !Console.IsOutputRedirected;
        var result = OpenRotation(options).Rotate(console.Output, "cli", redraw);
        if (result.Unreadable > 0)
        {
            console.Error.WriteLine($"xares: {result.Unreadable} credentials failed their integrity check and were left as they are; the rotation to version {result.Version} stays unfinished until they are deleted or replaced.");
            return ExitCodes.Failure;
        }
        console.Output.WriteLine($"Rotation complete: version {result.Version} current, {result.Rewrapped} data keys re-wrapped. Older versions stay until `xares-broker keys prune`.");
        return 0;
    }

    private static int PruneKeys(BrokerOptions options, InvocationConfiguration console)
    {
        var (database, keyring) = OpenVault(options);
        var result = new KeyringPruner(database, keyring, new AuditChain(keyring, TimeProvider.System), TimeProvider.System).Prune("cli");
        console.Output.WriteLine(result.Pruned.Count == 0
            ? $"Nothing to prune; versions {string.Join(", ", result.Kept)} are in use or current."
            : $"Pruned key-encryption key versions {string.Join(", ", result.Pruned)}; kept {string.Join(", ", result.Kept)}.");
        return 0;
    }

    private static int RekeyKeys(BrokerOptions options, InvocationConfiguration console)
    {
        var newKey = Environment.GetEnvironmentVariable("XARES_NEW_MASTER_KEY");
        var newKeyFile = Environment.GetEnvironmentVariable("XARES_NEW_MASTER_KEY_FILE");
        if (string.IsNullOrEmpty(newKey) && string.IsNullOrEmpty(newKeyFile))
        {
            console.Error.WriteLine("xares: set XARES_NEW_MASTER_KEY or XARES_NEW_MASTER_KEY_FILE to the new master key (never on the command line).");
            return ExitCodes.Usage;
        }
        OpenRotation(options).Rekey(MasterKey.Load(newKey, newKeyFile, options.DataDirectory), "cli");
        console.Output.WriteLine("Keyring re-wrapped under the new master key. Restart every broker with it.");
        return 0;
    }

    private static int KeyStatus(BrokerOptions options, bool json, InvocationConfiguration console)
    {
        var (versions, unfinished, holder) = OpenRotation(options).Status();
        if (json)
        {
            console.Output.WriteLine(JsonSerializer.Serialize(KeysStatusReport.From(versions, unfinished, holder), BrokerCliJson.Default.KeysStatusReport));
            return ExitCodes.Success;
        }
        foreach (var version in versions)
        {
            var usage = string.Join(", ", KeyringUsage.References.Select(r => $"{version.Usage.GetValueOrDefault(r.What)} {r.What}"));
            console.Output.WriteLine($"version {version.Version}: {usage}{(version.Current ? " (current)" : "")}{(version.Prunable ? " (prunable)" : "")}");
        }
        if (unfinished is { } v)
        {
            console.Output.WriteLine($"The rotation to version {v} is unfinished: run `xares-broker keys rotate` to resume it.");
        }
        if (holder is not null)
        {
            console.Output.WriteLine($"Running now: {holder}.");
        }
        return 0;
    }

    private static int Backup(BrokerOptions options, string file, InvocationConfiguration console)
    {
        using var database = new Database(options.DatabaseConnectionString);
        DatabaseBackup.ToFile(database, file);
        console.Output.WriteLine($"Backup written to {Path.GetFullPath(file)}. Keep the master key apart from it: the backup alone opens no secret.");
        return 0;
    }

    private static int VerifyAudit(BrokerOptions options, bool json, InvocationConfiguration console)
    {
        var (database, keyring) = OpenVault(options);
        using var connection = database.Open();
        var checkpointFile = options.Audit.CheckpointPath(options.DataDirectory);
        var result = new AuditChain(keyring, TimeProvider.System).Verify(connection, AuditCheckpointFile.Read(checkpointFile, keyring));
        if (json)
        {
            console.Output.WriteLine(JsonSerializer.Serialize(result, BrokerCliJson.Default.AuditVerification));
            return result.Ok ? ExitCodes.Success : ExitCodes.CheckFailed;
        }
        if (result.Ok)
        {
            var range = result.FirstSequence > 1 ? $" (records {result.FirstSequence} onwards; older ones were pruned by retention)" : "";
            console.Output.WriteLine($"Audit chain intact: {result.VerifiedRecords} records verified{range}; {result.CheckpointsChecked} checkpoints from {checkpointFile} matched.");
            return 0;
        }
        console.Error.WriteLine($"xares: audit chain broken at record {result.FirstBrokenSequence}: {result.Problem} ({result.VerifiedRecords} records verified before it).");
        return ExitCodes.CheckFailed;
    }

    private static int CreateAdminKey(BrokerOptions options, string name, string? expiresIn, InvocationConfiguration console)
    {
        var now = DateTimeOffset.UtcNow;
        DateTimeOffset? requested = null;
        if (expiresIn is not null)
        {
            if (!ApiKeyLifetime.TryParseDuration(expiresIn, out var lifetime))
            {
                console.Error.WriteLine($"xares: --expires-in takes a whole number of days, hours or minutes, such as 90d, 12h or 30m; got '{expiresIn}'.");
                return ExitCodes.Usage;
            }
            requested = now + lifetime;
            if (ApiKeyLifetime.Refusal(now, requested.Value) is { } refusal)
            {
                console.Error.WriteLine($"xares: --expires-in must {refusal}.");
                return ExitCodes.Usage;
            }
        }
        var expiresAt = ApiKeyLifetime.ExpiresAt(now, requested);
        var (database, keyring) = OpenVault(options);
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        var (record, token) = ApiKeyStore.Insert(connection, transaction, name, [ApiKeyScopes.Admin], null, now, expiresAt);
        new AuditChain(keyring, TimeProvider.System).Append(connection, transaction,
            new AuditEntry(AuditActions.ApiKeyCreate, AuditOutcomes.Success) { Actor = "cli", Detail = $"admin key {record.Id} created locally, expires {expiresAt:O}" });
        transaction.Commit();
        console.Error.WriteLine($"Created admin key {record.Id}, valid until {expiresAt:u}; it is shown once:");
        console.Output.WriteLine(token);
        return 0;
    }
}
