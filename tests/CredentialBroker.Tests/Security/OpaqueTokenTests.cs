using Xares.Broker.Security;

namespace Xares.Broker.Tests.Security;

public sealed class OpaqueTokenTests
{
    [Fact]
    public void NewId_ManyInATightLoop_SortInMintingOrderAndAreVersion7()
    {
        // Thousands per millisecond here: ordering within a millisecond is what is checked.
        var ids = Enumerable.Range(0, 20_000).Select(_ => OpaqueToken.NewId("cred_")).ToList();

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        foreach (var id in ids.Take(100))
        {
            Assert.Matches("^cred_[0-9a-f]{32}$", id);
            var uuid = new Guid(Convert.FromHexString(id["cred_".Length..]), bigEndian: true);
            Assert.Equal(7, uuid.Version);
            Assert.Equal(0b10, uuid.Variant >> 2);
        }
        var first = DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(ids[0]["cred_".Length..][..12], 16));
        Assert.InRange(first, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task NewId_FromManyThreadsAtOnce_AllDifferent()
    {
        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Enumerable.Range(0, 5_000).Select(_ => OpaqueToken.NewId("ws_")).ToList())));

        var all = batches.SelectMany(b => b).ToList();
        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
        Assert.All(batches, b => Assert.Equal(b, b.Order(StringComparer.Ordinal)));
    }
}
