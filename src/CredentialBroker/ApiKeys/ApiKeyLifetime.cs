using System.Globalization;

namespace Xares.Broker.ApiKeys;

/// <summary>
/// Invariant 5: every API key expires. One policy for every way a key is minted: `POST
/// /api/v1/api-keys` (an `expiresAt` instant), key rotation, and `xares-broker admin create-key`
/// (an `--expires-in` duration). Forges cap personal tokens at a year too.
/// </summary>
internal static class ApiKeyLifetime
{
    public static readonly TimeSpan Default = TimeSpan.FromDays(90);
    public static readonly TimeSpan Max = TimeSpan.FromDays(366);

    /// <summary>When a key minted <paramref name="now"/> expires: as asked, else after <see cref="Default"/>.</summary>
    public static DateTimeOffset ExpiresAt(DateTimeOffset now, DateTimeOffset? requested) => requested ?? now + Default;

    /// <summary>Why <paramref name="requested"/> is refused (completing "… must …"), or null when it is allowed.</summary>
    public static string? Refusal(DateTimeOffset now, DateTimeOffset requested) =>
        requested <= now ? "be in the future" : requested > now + Max ? $"be within {Max.TotalDays:0} days" : null;

    /// <summary>A key that lived <paramref name="lifetime"/> gets as long again on rotation, up to <see cref="Max"/>.</summary>
    public static DateTimeOffset Renewed(DateTimeOffset now, TimeSpan lifetime) => now + (lifetime > Max ? Max : lifetime);

    /// <summary>Parses a duration such as `90d`, `12h` or `30m` (a whole number and one unit).</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        if (text is not { Length: >= 2 and <= 9 }
            || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            return false;
        }
        TimeSpan? parsed = text[^1] switch
        {
            'd' => TimeSpan.FromDays(amount),
            'h' => TimeSpan.FromHours(amount),
            'm' => TimeSpan.FromMinutes(amount),
            _ => null,
        };
        duration = parsed ?? default;
        return parsed is not null;
    }
}
