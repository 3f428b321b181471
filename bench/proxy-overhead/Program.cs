using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Xares.Bench.ProxyOverhead;
using Xares.DevKit;

// Proxy overhead of `xares-sidecar run` (proxy mode) against a direct call to the same local
// provider stub, side by side in one run, for small and streamed responses. Real broker, real
// sidecar, the published binaries; the stub and the load generator share this process.
//   xares-proxy-overhead [--latency-requests N] [--concurrency C] [--seconds S]
var latencyRequests = Option("--latency-requests", 2000);
var concurrency = Option("--concurrency", 16);
var seconds = Option("--seconds", 5);

using var directory = ScratchDirectory.Create("xpo-");
var key = "sk-bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
await using var stub = await ProviderStub.StartAsync(key);
await using var relay = await ByteRelay.StartAsync(stub.BaseUrl);
await using var broker = await BrokerProcess.StartAsync(directory);
using var admin = broker.CreateAdminClient();
var userId = await admin.CreateUserAsync("bench");
await admin.SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/credentials", new { kind = "ai", provider = "openai", secret = key, baseUrl = stub.BaseUrl });
var grant = await admin.CreateWorkspaceAsync(userId, "bench");
await using var sidecar = await SidecarProcess.StartAsync(directory, broker.GrpcUrl, grant.BootstrapToken, "sc");

// The "tool": prints what run gave it, then keeps the run (and its proxy) alive until stdin closes.
var info = new ProcessStartInfo(Artifacts.Sidecar) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
foreach (var argument in new[] { "run", "--tool", "codex", "--", "sh", "-c", "printf '%s %s\\n' \"$OPENAI_BASE_URL\" \"$OPENAI_API_KEY\"; exec cat >/dev/null" })
{
    info.ArgumentList.Add(argument);
}
info.Environment["XARES_SIDECAR_SOCKET"] = sidecar.SocketPath;
using var run = Process.Start(info)!;
var given = (await run.StandardOutput.ReadLineAsync())?.Split(' ') ?? throw new InvalidOperationException("run printed nothing");
var (proxyBase, placeholder) = (given[0], given[1]);

using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false });
// An instant stub shows the proxy's own cost; a 20 ms one is closer to a real provider. The byte
// relay is the floor any separate-process proxy pays here.
var scenarios = new (string Name, string Url, string Key, int LatencyRequests)[]
{
    ("direct small", stub.BaseUrl + "/chat/completions", key, latencyRequests),
    ("proxy small", proxyBase + "/chat/completions", placeholder, latencyRequests),
    ("direct stream", stub.BaseUrl + "/chat/completions?stream", key, latencyRequests),
    ("proxy stream", proxyBase + "/chat/completions?stream", placeholder, latencyRequests),
    ("relay small", relay.BaseUrl + "/chat/completions", key, latencyRequests),
    ("direct 20ms", stub.BaseUrl + "/chat/completions?delay=20", key, 100),
    ("proxy 20ms", proxyBase + "/chat/completions?delay=20", placeholder, 100),
    ("direct st20ms", stub.BaseUrl + "/chat/completions?stream&delay=20", key, 100),
    ("proxy st20ms", proxyBase + "/chat/completions?stream&delay=20", placeholder, 100),
};
// Warm both paths (JIT in this process, connection pools, the sidecar's lease cache).
foreach (var scenario in scenarios)
{
    await LoadRun.MeasureAsync(scenario.Name, client, scenario.Url, scenario.Key, 20, concurrency, TimeSpan.FromSeconds(0.5));
}
var results = new List<LoadResult>();
foreach (var scenario in scenarios)
{
    results.Add(await LoadRun.MeasureAsync(scenario.Name, client, scenario.Url, scenario.Key, scenario.LatencyRequests, concurrency, TimeSpan.FromSeconds(seconds)));
}
run.StandardInput.Close();
await run.WaitForExitAsync();

Console.WriteLine($"{"scenario",-14} {"p50 ms",8} {"p99 ms",8} {"req/s (c=" + concurrency + ")",14} {"failures",8}");
foreach (var r in results)
{
    Console.WriteLine($"{r.Name,-14} {r.P50Ms,8:F3} {r.P99Ms,8:F3} {r.RequestsPerSecond,14:F0} {r.Failures,8}");
}
string F(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
string Pct(double value) => value.ToString("F0", CultureInfo.InvariantCulture);
var (ds, ps, dt, pt, rs, dd, pd, dds, pds) = (results[0], results[1], results[2], results[3], results[4], results[5], results[6], results[7], results[8]);
Console.WriteLine(
    $"small_added_p50={F(ps.P50Ms - ds.P50Ms)} small_added_p99={F(ps.P99Ms - ds.P99Ms)} small_rps_direct={Pct(ds.RequestsPerSecond)} small_rps_proxy={Pct(ps.RequestsPerSecond)} small_ratio={Pct(100 * ps.RequestsPerSecond / ds.RequestsPerSecond)}% " +
    $"stream_added_p50={F(pt.P50Ms - dt.P50Ms)} stream_added_p99={F(pt.P99Ms - dt.P99Ms)} stream_rps_direct={Pct(dt.RequestsPerSecond)} stream_rps_proxy={Pct(pt.RequestsPerSecond)} stream_ratio={Pct(100 * pt.RequestsPerSecond / dt.RequestsPerSecond)}% " +
    $"relay_added_p50={F(rs.P50Ms - ds.P50Ms)} relay_rps={Pct(rs.RequestsPerSecond)} relay_ratio={Pct(100 * rs.RequestsPerSecond / ds.RequestsPerSecond)}% " +
    $"slow_added_p50={F(pd.P50Ms - dd.P50Ms)} slow_rps_direct={Pct(dd.RequestsPerSecond)} slow_rps_proxy={Pct(pd.RequestsPerSecond)} slow_ratio={Pct(100 * pd.RequestsPerSecond / dd.RequestsPerSecond)}% " +
    $"slow_stream_added_p50={F(pds.P50Ms - dds.P50Ms)} slow_stream_rps_direct={Pct(dds.RequestsPerSecond)} slow_stream_rps_proxy={Pct(pds.RequestsPerSecond)} slow_stream_ratio={Pct(100 * pds.RequestsPerSecond / dds.RequestsPerSecond)}% " +
    $"failures={results.Sum(r => r.Failures)}");
return results.Sum(r => r.Failures) == 0 ? 0 : 1;

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
