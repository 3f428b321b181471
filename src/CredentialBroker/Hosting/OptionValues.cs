using System.CommandLine;
using System.Globalization;

namespace Xares.Broker.Hosting;

/// <summary>Values of `serve` options that may also come from an XARES_* variable.</summary>
internal static class OptionValues
{
    public static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    /// <summary>The most days a retention may be (100 years): more would put the cutoff before year 1.</summary>
    public const double MaxRetentionDays = 36_500;

    /// <summary>The longest interval in seconds a periodic job may be given (a year).</summary>
    public const double MaxIntervalSeconds = 365 * 86_400;

    /// <summary>
    /// A value from the option, else from the variable; outside [<paramref name="minimum"/>,
    /// <paramref name="maximum"/>] (or not a number) stops the start with a clear message.
    /// </summary>
    public static double? Number<T>(ParseResult parse, Option<T> option, string env, double minimum, double maximum = int.MaxValue)
    {
        double? value = parse.GetValue(option) is { } given ? Convert.ToDouble(given, CultureInfo.InvariantCulture) : null;
        if (value is null && Env(env) is { } text)
        {
            value = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : double.NaN;
        }
        if (value is { } v && (double.IsNaN(v) || v < minimum || v > maximum))
        {
            throw new InvalidOperationException($"{option.Name} ({env}) must be a number from {minimum} to {maximum}.");
        }
        return value;
    }

    /// <summary>A whole number from the option, else from the variable (digits only); below the minimum stops the start.</summary>
    public static int? WholeNumber(ParseResult parse, Option<int?> option, string env, int minimum)
    {
        int? value = parse.GetValue(option);
        if (value is null && Env(env) is { } text)
        {
            value = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new InvalidOperationException($"{env} must be a whole number, not '{text}'.");
        }
        return value is { } v && v < minimum ? throw new InvalidOperationException($"{option.Name} must be at least {minimum}.") : value;
    }
}
