using Serilog;
using Serilog.Core;
using Serilog.Events;
using Xares.Broker.Api;

namespace Xares.Broker.Hosting;

/// <summary>
/// Serilog level switches for the broker's log level and each category override, so SIGHUP can
/// change levels in place. Serilog fixes the set of overridden categories when the logger is
/// built: a category first named in a reload takes effect at the next start.
/// </summary>
internal sealed class LogLevelSwitches
{
    // Framework chatter kept down unless a category setting names them.
    private static readonly Dictionary<string, LogEventLevel> BuiltIn = new(StringComparer.Ordinal)
    {
        ["Microsoft.AspNetCore"] = LogEventLevel.Warning,
        // ASP.NET's "not authenticated"/"challenged" lines come under the handler's name: a failed
        // authentication logs once, as AuthFailureLog's warning.
        [typeof(ApiKeyAuthenticationHandler).FullName!] = LogEventLevel.Warning,
        // Its "no XML encryptor configured" warning is wrong here: DatabaseXmlRepository seals every
        // key element with the vault itself (where the key's id is known).
        ["Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager"] = LogEventLevel.Error,
    };

    private readonly Dictionary<string, LoggingLevelSwitch> _categories;

    public LogLevelSwitches(LogSettings settings)
    {
        Default = new LoggingLevelSwitch(settings.Level);
        _categories = Merged(settings).ToDictionary(e => e.Key, e => new LoggingLevelSwitch(e.Value), StringComparer.Ordinal);
    }

    public LoggingLevelSwitch Default { get; }

    public LoggerConfiguration Apply(LoggerConfiguration configuration)
    {
        configuration.MinimumLevel.ControlledBy(Default);
        foreach (var (category, levelSwitch) in _categories)
        {
            configuration.MinimumLevel.Override(category, levelSwitch);
        }
        return configuration;
    }

    /// <summary>Moves every switch to <paramref name="settings"/>; returns the categories that need a restart.</summary>
    public IReadOnlyList<string> Update(LogSettings settings)
    {
        var merged = Merged(settings);
        Default.MinimumLevel = settings.Level;
        foreach (var (category, levelSwitch) in _categories)
        {
            levelSwitch.MinimumLevel = merged.TryGetValue(category, out var level) ? level : settings.Level;
        }
        return [.. merged.Keys.Where(c => !_categories.ContainsKey(c))];
    }

    private static Dictionary<string, LogEventLevel> Merged(LogSettings settings)
    {
        var merged = new Dictionary<string, LogEventLevel>(BuiltIn, StringComparer.Ordinal);
        foreach (var (category, level) in settings.Categories)
        {
            merged[category] = level;
        }
        return merged;
    }
}
