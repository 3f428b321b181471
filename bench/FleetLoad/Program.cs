using Xares.Bench.FleetLoad;
using Xares.Bench.FleetLoad.Scenarios;

// A fleet of simulated sidecars against the published broker: connected idle cost (CPU, memory per
// sidecar), one revocation told to every sidecar, lease rate beside the idle fleet, and a broker
// restart with every stream resumed; or, with --replicas 2, the fleet spread over two replicas on
// PostgreSQL with a revocation through each. Progress goes to stderr; stdout gets one line per
// figure and `row:` lines for docs/benchmarks.md (bench/fleet.sh adds the date and load).
RunOptions options;
try
{
    options = RunOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
Xares.Bench.FleetLoad.Sidecars.SidecarChannel.KeepAlivePingDelay = options.KeepAlivePingDelay;
return options.Replicas == 0 ? await new SqliteRun(options).RunAsync() : await new PostgresRun(options).RunAsync();
