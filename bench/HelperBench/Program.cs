using Xares.Bench.Helper;

// Benchmarks of the published sidecar and helper, each against a real broker and sidecar that it
// sets up and tears down itself (bench/helper-fill.sh and bench/footprint.sh run it).
//   xares-helper-bench fill [--warmup N] [--runs N] [--export DIR]
//   xares-helper-bench sidecar-rss [--idle-seconds N]
const string Usage = "usage: xares-helper-bench fill [--warmup 20] [--runs 300] [--export DIR] | sidecar-rss [--idle-seconds 5]";

if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 1; i + 1 < args.Length; i += 2)
{
    options[args[i]] = args[i + 1];
}

int Number(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v) : fallback;

try
{
    return args[0] switch
    {
        "fill" => await FillBenchmark.RunAsync(Number("--warmup", 20), Number("--runs", 300), options.GetValueOrDefault("--export")),
        "sidecar-rss" => await RssBenchmark.RunAsync(TimeSpan.FromSeconds(Number("--idle-seconds", 5))),
        _ => throw new ArgumentException(Usage),
    };
}
catch (Exception e)
{
    Console.Error.WriteLine($"xares-helper-bench: {e.Message}");
    return 1;
}
