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
        string text;
        try
        {
            text = await Http.GetStringAsync($"{restUrl.TrimEnd('/')}/metrics");
        }
        catch (HttpRequestException)
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
}
