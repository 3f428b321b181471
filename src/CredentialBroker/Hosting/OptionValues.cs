using System.CommandLine;
using System.Globalization;

namespace Xares.Broker.Hosting;

/// <summary>Values of `serve` options that may also come from an XARES_* variable.</summary>
internal static class OptionValues
{
    public static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    /// <summary>A value from the option, else from the variable; below the minimum (or not a number) stops the start with a clear message.</summary>
    public static double? Number<T>(ParseResult parse, Option<T> option, string env, double minimum)
    {
        double? value = parse.GetValue(option) is { } given ? Convert.ToDouble(given, CultureInfo.InvariantCulture) : null;
        if (value is null && Env(env) is { } text)
        {
            value = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : double.NaN;
        }
        if (value is { } v && (double.IsNaN(v) || v < minimum))
        {
            throw new InvalidOperationException($"{option.Name} ({env}) must be a number of at least {minimum}.");
        }
        return value;
    }
}
