using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;

namespace Xares.Broker.CredentialHealth;

/// <summary>One page of GET /api/v1/credentials, and the cursor of the next page (null on the last one).</summary>
internal sealed record CredentialPage(IReadOnlyList<CredentialResponse> Items, string? NextCursor);

/// <summary>
/// GET /api/v1/credentials: every credential (or one user's) with its health, oldest first, paged
/// by keyset over (created_at, id). A health status depends on the clock, so the status filter
/// runs here rather than in SQL: chunks are read until the page is full or the table ends.
/// </summary>
internal static class CredentialListing
{
    public static CredentialPage Read(DbConnection connection, string? userId, IReadOnlySet<string>? statuses, ListingPosition? after, int limit,
        DateTimeOffset now, TimeSpan expiringWindow)
    {
        // The ids of the next chunk; credentials and their health rows are both read through it.
        var chunkIds = "SELECT id FROM credentials WHERE " + (userId is null ? "" : "user_id = @user AND ") + ListingPosition.AfterSql;
        var chunk = limit + 1;
        var position = after ?? ListingPosition.Start;
        var page = new List<(CredentialResponse Item, ListingPosition Position)>(chunk);
        while (page.Count <= limit)
        {
            var parameters = userId is null ? position.Parameters(chunk) : [.. position.Parameters(chunk), ("@user", userId)];
            var records = CredentialStore.ListIn(connection, chunkIds, parameters);
            var health = CredentialHealthStore.ForIdsIn(connection, chunkIds, parameters);
            foreach (var record in records)
            {
                position = ListingPosition.Of(record.CreatedAt, record.Id);
                var item = CredentialResponse.From(record, now, CredentialHealthView.Of(record, health.GetValueOrDefault(record.Id), now, expiringWindow));
                if (statuses is null || statuses.Contains(item.Health.Status))
                {
                    page.Add((item, position));
                    if (page.Count > limit)
                    {
                        break;
                    }
                }
            }
            if (records.Count < chunk)
            {
                break;
            }
        }
        // One item past the page says whether another page exists, without an empty last page.
        var (items, nextCursor) = ListingCursor.Page(page, limit, r => r.Position);
        return new CredentialPage(items.ConvertAll(r => r.Item), nextCursor);
    }
}
