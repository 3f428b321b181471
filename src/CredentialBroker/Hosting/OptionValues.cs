using System.CommandLine;
using System.Globalization;

namespace Xares.Broker.Hosting;

/// <summary>
/// Values of `serve` options: from the flag, else its XARES_* variable, else the settings file
/// (<see cref="SettingsFile"/>). A bad value is recorded there, named with where it may come from,
/// and the option keeps its default; <see cref="SettingsFile.ThrowIfErrors"/> then stops the start.
/// </summary>
internal static class OptionValues
{
    public static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    /// <summary>The most days a retention may be (100 years): more would put the cutoff before year 1.</summary>
    public const double MaxRetentionDays = 36_500;

    /// <summary>The longest interval in seconds a periodic job may be given (a year).</summary>
    public const double MaxIntervalSeconds = 365 * 86_400;

    public static string? Text(ParseResult parse, Option<string> option, string env) =>
        parse.GetValue(option) ?? Env(env) ?? SettingsFile.For(parse).Value(Key(option));

    /// <summary>A setting with no flag: its variable, else the settings file.</summary>
    public static string? Text(ParseResult parse, string env, string key) => Env(env) ?? SettingsFile.For(parse).Value(key);

    /// <summary>A repeatable option's values; its variable and the file give comma-separated text or a JSON list.</summary>
    public static string[] Texts(ParseResult parse, Option<string[]> option, string env) =>
        parse.GetValue(option) is { Length: > 0 } given ? given
        : Env(env) is { } text ? [text]
        : SettingsFile.For(parse).Values(Key(option));

    /// <summary>A switch: the flag, else `true`/`false` from the variable or the file; anything else is recorded as an error.</summary>
    public static bool Flag(ParseResult parse, Option<bool?> option, string env)
    {
        if (parse.GetValue(option) is { } given)
        {
            return given;
        }
        var settings = SettingsFile.For(parse);
        if ((Env(env) ?? settings.Value(Key(option))) is not { } text)
        {
            return false;
        }
        if (bool.TryParse(text, out var value))
        {
            return value;
        }
        settings.Error($"{settings.Sources(option.Name, env)} must be true or false, not '{text}'.");
        return false;
    }

    /// <summary>
    /// A number within [<paramref name="minimum"/>, <paramref name="maximum"/>]; anything else is
    /// recorded as an error and read as absent.
    /// </summary>
    public static double? Number<T>(ParseResult parse, Option<T> option, string env, double minimum, double maximum = int.MaxValue)
    {
        double? value = parse.GetValue(option) is { } given ? Convert.ToDouble(given, CultureInfo.InvariantCulture) : null;
        if (value is null && (Env(env) ?? SettingsFile.For(parse).Value(Key(option))) is { } text)
        {
            value = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : double.NaN;
        }
        if (value is { } v && (double.IsNaN(v) || v < minimum || v > maximum))
        {
            var settings = SettingsFile.For(parse);
            settings.Error($"{settings.Sources(option.Name, env)} must be a number from {minimum} to {maximum}.");
            return null;
        }
        return value;
    }

    /// <summary>A whole number (digits only) of at least <paramref name="minimum"/>; anything else is recorded as an error.</summary>
    public static int? WholeNumber(ParseResult parse, Option<int?> option, string env, int minimum)
    {
        var settings = SettingsFile.For(parse);
        int? value = parse.GetValue(option);
        if (value is null && (Env(env) ?? settings.Value(Key(option))) is { } text)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                settings.Error($"{settings.Sources(option.Name, env)} must be a whole number, not '{text}'.");
                return null;
            }
            value = parsed;
        }
        if (value is { } v && v < minimum)
        {
            settings.Error($"{settings.Sources(option.Name, env)} must be at least {minimum}.");
            return null;
        }
        return value;
    }

    /// <summary>Runs a check that throws on a bad value (e.g. a parser) and records its message instead.</summary>
    public static void Check(ParseResult parse, Action check)
    {
        try
        {
            check();
        }
        catch (InvalidOperationException e)
        {
            SettingsFile.For(parse).Error(e.Message);
        }
    }

    private static string Key(Option option) => option.Name.TrimStart('-');
}
