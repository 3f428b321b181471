using Xares.Broker.Api;
using Xares.Broker.CredentialHealth;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi;

/// <summary>
/// The admin health page: how many credentials, across every user, are in each health state
/// (GET /api/v1/credentials' statuses), and the failing ones (status error), oldest first.
/// </summary>
internal sealed record CredentialHealthOverview(IReadOnlyDictionary<string, long> Counts, IReadOnlyList<CredentialResponse> Failing, long FailingTotal)
{
    public const int FailingShown = 100;
    private const int Chunk = 500;

    /// <summary>The states in the order the page shows them.</summary>
    public static IReadOnlyList<string> States { get; } =
        [CredentialHealthView.Error, CredentialHealthView.Expiring, CredentialHealthView.Active, CredentialHealthView.Unchecked];

    public long Total => Counts.Values.Sum();

    /// <summary>Counts the states of <paramref name="credentials"/> and keeps the first <paramref name="failingShown"/> failing ones.</summary>
    public static CredentialHealthOverview From(IEnumerable<CredentialResponse> credentials, int failingShown = FailingShown)
    {
        var counts = States.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        var failing = new List<CredentialResponse>();
        foreach (var credential in credentials)
        {
            counts[credential.Health.Status] = counts.GetValueOrDefault(credential.Health.Status) + 1;
            if (credential.Health.Status == CredentialHealthView.Error && failing.Count < failingShown)
            {
                failing.Add(credential);
            }
        }
        return new CredentialHealthOverview(counts, failing, counts[CredentialHealthView.Error]);
    }

    /// <summary>Every credential through the health listing, a chunk at a time (its statuses depend on the clock, so they are judged there).</summary>
    public static CredentialHealthOverview Read(System.Data.Common.DbConnection connection, DateTimeOffset now, TimeSpan expiringWindow) =>
        From(ReadAll(connection, now, expiringWindow));

    private static IEnumerable<CredentialResponse> ReadAll(System.Data.Common.DbConnection connection, DateTimeOffset now, TimeSpan expiringWindow)
    {
        ListingPosition? after = null;
        while (true)
        {
            var page = CredentialListing.Read(connection, null, null, after, Chunk, now, expiringWindow);
            foreach (var item in page.Items)
            {
                yield return item;
            }
            if (page.NextCursor is null || !ListingCursor.TryDecode(page.NextCursor, "cred_", out var next))
            {
                yield break;
            }
            after = next;
        }
    }
}
