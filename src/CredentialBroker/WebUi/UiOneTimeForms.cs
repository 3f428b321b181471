using System.Collections.Concurrent;
using System.Globalization;
using Xares.Broker.Security;

namespace Xares.Broker.WebUi;

/// <summary>
/// Forms whose answer is shown once (a new API key): each form carries an id issued with it, and a
/// post is acted on only the first time its id is claimed. Reloading the answer page re-posts the
/// same form, which then creates nothing and shows no secret. Ids are valid for <see cref="Lifetime"/>;
/// claimed ids are remembered for as long, in memory (like the UI's sessions).
/// </summary>
internal sealed class UiOneTimeForms(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _claimed = new(StringComparer.Ordinal);

    /// <summary>A new id: when it was issued, and 256 random bits.</summary>
    public string Issue() => time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "." + OpaqueToken.Create("");

    /// <summary>True once for an id this broker issued within <see cref="Lifetime"/>; false for a replay, a stale or a malformed id.</summary>
    public bool TryClaim(string? id)
    {
        var now = time.GetUtcNow();
        var dot = id?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (id is not { Length: > 20 and < 200 } || dot <= 0
            || !long.TryParse(id.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > now.ToUnixTimeSeconds() + 60)
        {
            return false;
        }
        var issued = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (now - issued > Lifetime)
        {
            return false;
        }
        foreach (var (old, at) in _claimed)
        {
            if (now - at > Lifetime)
            {
                _claimed.TryRemove(old, out _);
            }
        }
        return _claimed.TryAdd(id, issued);
    }
}
