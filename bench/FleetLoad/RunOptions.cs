using System.Globalization;

namespace Xares.Bench.FleetLoad;

/// <summary>The command line: `xares-fleet-load [--sidecars N] [--replicas R] … [-- broker serve options]`.</summary>
internal sealed record RunOptions
{
    public const string Usage =
        "usage: xares-fleet-load [--sidecars 1000] [--replicas 0] [--busy 32] [--warmup 10] [--lease-seconds 10] [--idle-seconds 30]\n" +
        "                        [--witnesses 3] [--connect-parallelism 64] [--revocation-timeout 120] [--session-ttl SECONDS] [--keepalive-seconds 120]\n" +
        "                        [-- BROKER_SERVE_OPTIONS…]\n" +
        "--replicas 0 runs one broker on SQLite (idle, revocation, lease rate, restart); 2 runs two replicas on PostgreSQL (idle, revocation via each).";

    public int Sidecars { get; init; } = 1000;

    /// <summary>0: one broker on SQLite; 1 or more: that many replicas on one PostgreSQL database.</summary>
    public int Replicas { get; init; }

    public int Busy { get; init; } = 32;

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan LeaseWindow { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan IdleWindow { get; init; } = TimeSpan.FromSeconds(30);

    public int Witnesses { get; init; } = 3;

    public int ConnectParallelism { get; init; } = 64;

    public TimeSpan RevocationTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The brokers' session token lifetime (their default when null); the sidecars refresh at 60 % of it.</summary>
    public int? SessionTtlSeconds { get; init; }

    /// <summary>The simulated sidecars' HTTP/2 keep-alive ping delay; the real sidecar's by default.</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromMinutes(2);

    public IReadOnlyList<string> BrokerArguments { get; init; } = [];

    /// <summary>The `serve` options every broker of the run gets.</summary>
    public IReadOnlyList<string> ServeArguments =>
        SessionTtlSeconds is { } ttl ? [.. BrokerArguments, "--session-ttl-seconds", ttl.ToString(CultureInfo.InvariantCulture)] : BrokerArguments;

    public static RunOptions Parse(string[] args)
    {
        var options = new RunOptions();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--")
            {
                return options with { BrokerArguments = args[(i + 1)..] };
            }
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            }
            var value = int.Parse(args[++i], CultureInfo.InvariantCulture);
            options = args[i - 1] switch
            {
                "--sidecars" => options with { Sidecars = value },
                "--replicas" => options with { Replicas = value },
                "--busy" => options with { Busy = value },
                "--warmup" => options with { Warmup = TimeSpan.FromSeconds(value) },
                "--lease-seconds" => options with { LeaseWindow = TimeSpan.FromSeconds(value) },
                "--idle-seconds" => options with { IdleWindow = TimeSpan.FromSeconds(value) },
                "--witnesses" => options with { Witnesses = value },
                "--connect-parallelism" => options with { ConnectParallelism = value },
                "--revocation-timeout" => options with { RevocationTimeout = TimeSpan.FromSeconds(value) },
                "--session-ttl" => options with { SessionTtlSeconds = value },
                "--keepalive-seconds" => options with { KeepAlivePingDelay = TimeSpan.FromSeconds(value) },
                _ => throw new ArgumentException($"Unknown option {args[i - 1]}.\n{Usage}"),
            };
        }
        return options;
    }
}
