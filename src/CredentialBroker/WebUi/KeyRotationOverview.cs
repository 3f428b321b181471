using Xares.Broker.Vault;

namespace Xares.Broker.WebUi;

/// <summary>
/// The admin audit page's view of the keyring (`xares-broker keys status`): each version and what
/// it protects, and how far the rows a rotation re-wraps have reached the current version.
/// </summary>
internal sealed record KeyRotationOverview(IReadOnlyList<KeyRotation.VersionStatus> Versions, int CurrentVersion, long RewrappedRows, long RewrappableRows,
    int? UnfinishedRotation, string? RunningNow)
{
    /// <summary>Whole percent of re-wrappable rows under the current version (100 when there are none); never rounds up to 100.</summary>
    public int Percent => RewrappableRows == 0 ? 100 : (int)Math.Floor(RewrappedRows * 100.0 / RewrappableRows);

    public bool Complete => RewrappedRows == RewrappableRows && UnfinishedRotation is null;

    public static KeyRotationOverview From(IReadOnlyList<KeyRotation.VersionStatus> versions, int? unfinished, string? holder, IReadOnlySet<string> rewrappedKinds)
    {
        var current = versions.FirstOrDefault(v => v.Current)?.Version ?? 0;
        long Rows(KeyRotation.VersionStatus v) => v.Usage.Where(u => rewrappedKinds.Contains(u.Key)).Sum(u => u.Value);
        var total = versions.Sum(Rows);
        var done = versions.Where(v => v.Version == current).Sum(Rows);
        return new KeyRotationOverview(versions, current, done, total, unfinished, holder);
    }
}
