using System.Globalization;

namespace Xares.Bench.FleetLoad.Measures;

/// <summary>
/// Reads a broker's Prometheus text at /metrics (REST listener): the sum of every series of a
/// metric, or null when the broker does not export it (older builds).
/// </summary>
internal static class MetricsScrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static async Task<double?> SumAsync(string restUrl, string metric)
    {
        if (await ScrapeAsync(restUrl) is not { } text)
        {
            return null;
        }
        double? sum = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(metric, StringComparison.Ordinal) && line.Length > metric.Length && line[metric.Length] is ' ' or '{'
                && double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum = (sum ?? 0) + value;
            }
        }
        return sum;
    }

    /// <summary>A histogram's cumulative bucket counts by upper bound (every series added up), or null when not exported.</summary>
    public static async Task<SortedDictionary<double, double>?> BucketsAsync(string restUrl, string histogram)
    {
        if (await ScrapeAsync(restUrl) is not { } text)
        {
            return null;
        }
        var prefix = histogram + "_bucket{";
        SortedDictionary<double, double>? buckets = null;
        foreach (var line in text.Split('\n'))
        {
            var le = line.IndexOf("le=\"", StringComparison.Ordinal);
            if (!line.StartsWith(prefix, StringComparison.Ordinal) || le < 0)
            {
                continue;
            }
            var bound = line[(le + 4)..line.IndexOf('"', le + 4)];
            var upper = bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, CultureInfo.InvariantCulture);
            var count = double.Parse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
            buckets ??= [];
            buckets[upper] = buckets.GetValueOrDefault(upper) + count;
        }
        return buckets;
    }

    private static async Task<string?> ScrapeAsync(string restUrl)
    {
        try
        {
            return await Http.GetStringAsync($"{restUrl.TrimEnd('/')}/metrics");
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
