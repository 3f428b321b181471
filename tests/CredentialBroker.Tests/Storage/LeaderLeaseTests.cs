using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Storage;

namespace Xares.Broker.Tests.Storage;

public sealed class LeaderLeaseTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
    private TestDatabase _db = null!;

    public Task InitializeAsync()
    {
        _db = TestDatabase.Create();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private LeaderLease Lease(string holder) => new(_db.Writes, _time, "docker-watcher", holder, TimeSpan.FromSeconds(15));

    [Fact]
    public async Task TryAcquire_HeldByAnother_RefusedUntilItExpires()
    {
        var a = Lease("a");
        var b = Lease("b");

        Assert.True(await a.TryAcquireAsync());
        Assert.False(await b.TryAcquireAsync());
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(await a.TryAcquireAsync()); // renewal
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(await b.TryAcquireAsync());
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(await b.TryAcquireAsync());
        Assert.False(await a.TryAcquireAsync());
    }

    [Fact]
    public async Task Release_ByHolder_LetsAnotherTakeItAtOnce()
    {
        var a = Lease("a");
        var b = Lease("b");
        Assert.True(await a.TryAcquireAsync());

        await b.ReleaseAsync(); // not the holder: no effect
        Assert.False(await b.TryAcquireAsync());
        await a.ReleaseAsync();

        Assert.True(await b.TryAcquireAsync());
    }

    [Fact]
    public async Task TryAcquire_SameHolderAfterRestart_TakesItBackAtOnce()
    {
        Assert.True(await Lease("host http://127.0.0.1:7401").TryAcquireAsync());

        Assert.True(await Lease("host http://127.0.0.1:7401").TryAcquireAsync());
    }
}
