using System.Reflection;
using Prometheus;
using Xares.Broker.Storage;

namespace Xares.Broker.Hosting;

/// <summary>
/// The broker's own Prometheus metrics (HTTP request counts and latencies come from
/// prometheus-net's middleware; process CPU, memory and GC from its process collector). Labels
/// are small fixed sets — kinds, outcomes, audit actions, surfaces — never ids, secrets, tokens
/// or anything a caller typed. Counters end in _total, durations are seconds and end in _seconds.
/// </summary>
internal static class BrokerMetrics
{
    /// <summary>The version string `xares-broker --version` prints.</summary>
    public static readonly string Version =
        typeof(BrokerMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static readonly Gauge BuildInfo = Metrics.CreateGauge(
        "xares_build_info", "Always 1; the version label says which build answers.", new GaugeConfiguration { LabelNames = ["version"] });

    public static readonly Histogram LeaseIssueDuration = Metrics.CreateHistogram(
        "xares_lease_request_duration_seconds", "Time the broker took to answer a sidecar's lease request (session check, match, audit commit), by kind and outcome.",
        new HistogramConfiguration
        {
            LabelNames = ["kind", "outcome"],
            // 0.25 ms to ~1 s: a commit on a fast disk is well under a millisecond, a minted token waits for its provider.
            Buckets = Histogram.ExponentialBuckets(0.00025, 2, 13),
        });

    public static readonly Gauge WriteQueueDepth = Metrics.CreateGauge(
        "xares_write_queue_depth", "Write units waiting for the database's single writer (counted at scrape time).");

    public static readonly Counter LeasesIssued = Metrics.CreateCounter(
        "xares_leases_issued_total", "Leases issued (counted after the lease and its audit record committed).",
        new CounterConfiguration { LabelNames = ["kind"] });

    public static readonly Counter LeaseRequests = Metrics.CreateCounter(
        "xares_lease_requests_total", "Lease requests from sidecars by outcome: issued, no_match, denied (session refused) or limit_reached.",
        new CounterConfiguration { LabelNames = ["kind", "outcome"] });

    // Counted inside the write unit (there is no per-unit commit hook): a unit that rolls back
    // after appending, or a PostgreSQL batch rerun after another unit failed, counts again.
    public static readonly Counter Revocations = Metrics.CreateCounter(
        "xares_revocations_total", "Revocations appended to the revocation log, by kind (lease, credential, session, workspace).",
        new CounterConfiguration { LabelNames = ["kind"] });

    // Same caveat as revocations: counted when appended inside the write unit.
    public static readonly Counter AuditRecords = Metrics.CreateCounter(
        "xares_audit_records_total", "Audit records appended, by action.",
        new CounterConfiguration { LabelNames = ["action"] });

    public static readonly Counter AuthFailures = Metrics.CreateCounter(
        "xares_auth_failures_total", "Failed authentications: API keys on REST, session tokens on gRPC.",
        new CounterConfiguration { LabelNames = ["surface"] });

    public static readonly Counter CredentialTests = Metrics.CreateCounter(
        "xares_credential_tests_total", "Credential tests against their provider, by provider, outcome (ok, failed) and trigger (api, schedule).",
        new CounterConfiguration { LabelNames = ["provider", "outcome", "trigger"] });

    public static readonly Counter RateLimited = Metrics.CreateCounter(
        "xares_rate_limited_total", "Requests refused by a rate limit: rest (too many failed authentications) or grpc (session call rate).",
        new CounterConfiguration { LabelNames = ["surface"] });

    public static readonly Counter ConnectionsShed = Metrics.CreateCounter(
        "xares_connections_shed_total", "Sidecar connection attempts refused with Unavailable and a retry hint under load, by call "
            + "(open_session, watch_revocations, validate_leases) and limit (concurrency, rate).",
        new CounterConfiguration { LabelNames = ["call", "limit"] });

    public static readonly Gauge DockerWatcherConnected = Metrics.CreateGauge(
        "xares_docker_watcher_connected", "1 while this replica follows the events of the Docker engine named by the label (it holds that engine's watcher lease "
            + "and the engine answers), else 0. Alert per engine when the sum over replicas stays 0.",
        new GaugeConfiguration { LabelNames = ["engine"] });

    public static readonly Counter DockerBootstraps = Metrics.CreateCounter(
        "xares_docker_bootstraps_total", "Container hand-overs by engine and outcome: running (a session opened), failing (none after two deliveries) or refused (no workspace it may bind).",
        new CounterConfiguration { LabelNames = ["engine", "outcome"] });

    public static readonly Counter PrunedRows = Metrics.CreateCounter(
        "xares_ended_state_pruned_total", "Rows of ended state deleted by retention (--ended-retention-days), by table.",
        new CounterConfiguration { LabelNames = ["table"] });

    public static readonly Counter RevocationLogReads = Metrics.CreateCounter(
        "xares_revocation_log_reads_total", "Reads of the revocation log: dispatch (woken by a commit or a NOTIFY), safety (this process's slow poll) "
            + "or catchup (a stream resuming from an older sequence). Dispatch and safety reads are one per process, whatever the number of streams.",
        new CounterConfiguration { LabelNames = ["reason"] });

    public static readonly Histogram RevocationDelivery = Metrics.CreateHistogram(
        "xares_revocation_delivery_seconds", "From a revocation's dispatch in this process (right after it read the log) to its event written on one "
            + "sidecar's stream, once per stream told: how long this broker takes to tell every stream a revocation concerns.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 1.5, 22) });

    public static readonly Gauge RevocationStreams = Metrics.CreateGauge(
        "xares_revocation_streams", "Sidecar revocation streams connected to this process.");

    public static readonly Gauge ActiveSessions = Metrics.CreateGauge(
        "xares_active_sessions", "Sidecar sessions neither revoked nor past their hard expiry (counted at scrape time).");

    /// <summary>
    /// Drops the runtime's own meters and event counters (msquic, Kestrel and friends, exported as
    /// gauges under long private names) from /metrics, keeping prometheus-net's process and GC
    /// metrics. Takes effect only before the first scrape; each broker host calls it at start.
    /// </summary>
    public static void Configure()
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressProcessMetrics = false,
            SuppressDebugMetrics = true,
            SuppressEventCounters = true,
            SuppressMeters = true,
        });
        BuildInfo.WithLabels(Version).Set(1);
    }

    public static void LeaseRequest(string kind, string outcome, TimeSpan elapsed)
    {
        LeaseIssueDuration.WithLabels(kind, outcome).Observe(elapsed.TotalSeconds);
        LeaseRequests.WithLabels(kind, outcome).Inc();
        if (outcome == "issued")
        {
            LeasesIssued.WithLabels(kind).Inc();
        }
    }

    /// <summary>Refreshes the scrape-time gauges from this host's database before /metrics answers.</summary>
    public static IApplicationBuilder UseScrapeTimeMetrics(this IApplicationBuilder app, string metricsPath) =>
        app.UseWhen(context => context.Request.Path == metricsPath, branch => branch.Use(async (context, next) =>
        {
            var database = context.RequestServices.GetRequiredService<Database>();
            WriteQueueDepth.Set(context.RequestServices.GetRequiredService<WriteQueue>().Waiting);
            var time = context.RequestServices.GetRequiredService<TimeProvider>();
            var now = time.GetUtcNow().ToDb();
            try
            {
                ActiveSessions.Set(await database.ReadAsync(c => Convert.ToInt64(
                    Sql.Scalar(c, null, "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > @now", ("@now", now)) ?? 0L)));
            }
            catch (Exception)
            {
                // Metrics matter most when the database is down: serve them with the last known count.
            }
            await next(context);
        }));
}
