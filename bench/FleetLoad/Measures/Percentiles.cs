namespace Xares.Bench.FleetLoad.Measures;

/// <summary>Nearest-rank percentiles of a sample, printed as the bench scripts read them.</summary>
internal sealed class Percentiles
{
    private readonly double[] _sorted;

    public Percentiles(IEnumerable<double> samples) => _sorted = [.. samples.Order()];

    public int Count => _sorted.Length;

    public double At(double percent) =>
        _sorted.Length == 0 ? double.NaN : _sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * _sorted.Length) - 1, 0, _sorted.Length - 1)];

    public double Max => _sorted.Length == 0 ? double.NaN : _sorted[^1];

    /// <summary>`p50=…ms p99=…ms max=…ms` with the given prefix on each key.</summary>
    public string Describe(string prefix) =>
        $"{prefix}p50={At(50):F0}ms {prefix}p99={At(99):F0}ms {prefix}max={Max:F0}ms";
}
