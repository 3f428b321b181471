using System.Diagnostics;
using System.Net.Http.Headers;

namespace Xares.Bench.ProxyOverhead;

/// <summary>One measured scenario: latency percentiles at concurrency 1 and throughput at concurrency N.</summary>
internal sealed record LoadResult(string Name, double P50Ms, double P99Ms, double RequestsPerSecond, int Failures);

internal static class LoadRun
{
    public static async Task<LoadResult> MeasureAsync(string name, HttpClient client, string url, string key, int latencyRequests, int concurrency, TimeSpan throughputFor)
    {
        var latencies = new double[latencyRequests];
        var failures = 0;
        for (var i = 0; i < latencyRequests; i++)
        {
            var started = Stopwatch.GetTimestamp();
            failures += await SendAsync(client, url, key) ? 0 : 1;
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(latencies);
        var completed = 0L;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < throughputFor)
            {
                if (await SendAsync(client, url, key))
                {
                    Interlocked.Increment(ref completed);
                }
                else
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        await Task.WhenAll(workers);
        return new LoadResult(name, Percentile(latencies, 0.50), Percentile(latencies, 0.99), completed / clock.Elapsed.TotalSeconds, failures);
    }

    /// <summary>A chat completion request; the whole response body is read, as a client would.</summary>
    private static async Task<bool> SendAsync(HttpClient client, string url, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent("""{"model":"gpt-bench","messages":[{"role":"user","content":"hi"}]}""", MediaTypeHeaderValue.Parse("application/json")),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        await body.CopyToAsync(Stream.Null);
        return response.IsSuccessStatusCode;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
