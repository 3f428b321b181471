using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;

namespace Xares.Broker.Tests.Audit;

/// <summary>Each detector's threshold, its quiet side, and the cool-down, on records written straight into the chain.</summary>
public sealed class AuditFlagDetectorTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));
    private TestDatabase _db = null!;
    private AuditChain _chain = null!;
    private AuditFlagDetector _detector = null!;

    public Task InitializeAsync()
    {
        _db = TestDatabase.Create();
        _chain = new AuditChain(_db.Keyring, _time);
        var thresholds = new AuditFlagThresholds { LeaseRateFactor = 5, LeaseRateFloor = 10, Rejections = 3, AuthFailures = 5 };
        _detector = new AuditFlagDetector(_chain, new BrokerOptions { Audit = new AuditSettings { Flags = thresholds } }, _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task LeaseRate_FarAboveTheTrailingAverageAndTheFloor_RaisesOneFlag()
    {
        // A usual rate of 2 an hour for a week, then 15 in one hour.
        for (var hour = 0; hour < 24 * 7; hour++)
        {
            await AppendAsync(2, Lease("ws_a"));
            _time.Advance(TimeSpan.FromHours(1));
        }
        Assert.Empty(await ScanAsync());

        await AppendAsync(15, Lease("ws_a"));
        await AppendAsync(15, Lease("ws_quiet") with { UserId = "usr_b" });
        var flags = await ScanAsync();

        var flag = Assert.Single(flags, f => f.WorkspaceId == "ws_a");
        Assert.Equal(AuditFlagKinds.LeaseRate, flag.Kind);
        Assert.Equal("ws_a", flag.WorkspaceId);
        Assert.Equal("usr_a", flag.UserId);
        Assert.Contains("15 leases", flag.Detail, StringComparison.Ordinal);
        // ws_quiet has no history: 15 is above the floor and above 5 × 0, so it is flagged too.
        Assert.Contains(flags, f => f is { Kind: AuditFlagKinds.LeaseRate, WorkspaceId: "ws_quiet" });

        await AppendAsync(30, Lease("ws_a"));
        Assert.Empty(await ScanAsync()); // cool-down
    }

    [Fact]
    public async Task LeaseRate_MoreBusyWorkspacesInOneScanThanOneStatementJudges_EveryOneJudged()
    {
        var detector = new AuditFlagDetector(_chain, new BrokerOptions
        {
            Audit = new AuditSettings { Flags = new AuditFlagThresholds { LeaseRateFactor = 5, LeaseRateFloor = 1 } },
        }, _time);
        var workspaces = Enumerable.Range(0, AuditFlagDetector.BatchSize / 2).Select(i => $"ws_{i:D3}").ToList();
        await _db.Writes.ExecuteAsync((c, t) =>
        {
            foreach (var workspace in workspaces.Concat(workspaces))
            {
                _chain.Append(c, t, Lease(workspace));
            }
        });

        var scan = await _db.Writes.ExecuteAsync(detector.Scan);

        Assert.Equal(AuditFlagDetector.BatchSize, scan.Examined);
        Assert.Equal(workspaces, scan.Raised.Select(f => f.WorkspaceId!).Order());
        Assert.All(scan.Raised, f => Assert.Contains("2 leases in the hour", f.Detail, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LeaseRate_HighButUsual_RaisesNothing()
    {
        for (var hour = 0; hour < 24 * 7; hour++)
        {
            await AppendAsync(12, Lease("ws_busy"));
            _time.Advance(TimeSpan.FromHours(1));
        }

        Assert.Empty(await ScanAsync());
    }

    [Fact]
    public async Task NewAddress_AfterTheFirst_RaisesOncePerAddress()
    {
        await AppendAsync(1, Session("ws_a", "10.0.0.5"));
        await AppendAsync(3, Lease("ws_a") with { RemoteAddress = "10.0.0.5" });
        Assert.Empty(await ScanAsync());

        await AppendAsync(2, Lease("ws_a") with { RemoteAddress = "203.0.113.9" });
        await AppendAsync(1, Session("ws_b", "203.0.113.9"));
        var flag = Assert.Single(await ScanAsync());

        Assert.Equal(AuditFlagKinds.NewAddress, flag.Kind);
        Assert.Equal(("ws_a", "203.0.113.9"), (flag.WorkspaceId, flag.RemoteAddress));
    }

    [Fact]
    public async Task DeniedRequests_DoNotTeachAddresses()
    {
        await AppendAsync(1, Session("ws_a", "10.0.0.5"));
        await AppendAsync(1, new AuditEntry(AuditActions.SessionOpen, AuditOutcomes.Denied) { WorkspaceId = "ws_a", RemoteAddress = "10.9.9.9" });

        Assert.Empty(await ScanAsync());
    }

    [Fact]
    public async Task Rejections_ThreeWithinAnHour_RaiseAFlagForTheCredential()
    {
        await AppendAsync(2, Rejection("cred_a"));
        _time.Advance(TimeSpan.FromHours(2));
        await AppendAsync(2, Rejection("cred_a"));
        Assert.Empty(await ScanAsync());

        await AppendAsync(1, Rejection("cred_a"));
        var flag = Assert.Single(await ScanAsync());

        Assert.Equal((AuditFlagKinds.RepeatedRejections, "cred_a", "usr_a"), (flag.Kind, flag.CredentialId, flag.UserId));
    }

    [Fact]
    public async Task AuthFailures_BurstFromOneAddress_RaisesAFlagWithoutAUser()
    {
        await AppendAsync(4, Failure("198.51.100.7"));
        await AppendAsync(4, Failure("198.51.100.8"));
        Assert.Empty(await ScanAsync());

        await AppendAsync(1, Failure("198.51.100.7"));
        var flag = Assert.Single(await ScanAsync());

        Assert.Equal((AuditFlagKinds.AuthFailures, "198.51.100.7"), (flag.Kind, flag.RemoteAddress));
        Assert.Null(flag.UserId);
    }

    [Fact]
    public async Task AuthFailures_AnAggregatedRecord_CountsAsManyAsItSays()
    {
        await AppendAsync(1, Failure("198.51.100.7") with { Detail = "37 failures from this client in the last minute" });

        Assert.Equal(AuditFlagKinds.AuthFailures, Assert.Single(await ScanAsync()).Kind);
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData("GET /api/v1/users", 1)]
    [InlineData("12 failures since 10:00", 12)]
    [InlineData("37 more failures within 60 s of the first", 37)]
    [InlineData("aggregated: 3 failed attempts", 3)]
    [InlineData("0 failures", 1)]
    public void FailuresIn_ReadsAnAggregatedCount(string? detail, long expected) =>
        Assert.Equal(expected, AuditFlagDetector.FailuresIn(detail));

    [Fact]
    public async Task Scan_EachRecordOnce_AndEachFlagIsAnAuditRecordInAChainThatVerifies()
    {
        await AppendAsync(AuditFlagDetector.BatchSize + 10, Failure("198.51.100.7"));

        var first = await ScanAsync();
        var second = await ScanAsync();

        var flag = Assert.Single(first);
        Assert.Empty(second);
        using var connection = _db.OpenRaw();
        var record = Sql.Query(connection, null, $"SELECT {AuditRecord.Columns} FROM audit_log WHERE seq = $s", AuditRecord.Read, ("$s", flag.Sequence)).Single();
        Assert.Equal(AuditActions.AuditFlag, record.Action);
        Assert.StartsWith("auth_failures:", record.Detail, StringComparison.Ordinal);
        Assert.True(_chain.Verify(connection).Ok);
    }

    private async Task<List<AuditFlag>> ScanAsync()
    {
        var raised = new List<AuditFlag>();
        AuditScan scan;
        do
        {
            scan = await _db.Writes.ExecuteAsync(_detector.Scan);
            raised.AddRange(scan.Raised);
        }
        while (scan.More);
        return raised;
    }

    private async Task AppendAsync(int count, AuditEntry entry)
    {
        for (var i = 0; i < count; i++)
        {
            await _db.Writes.ExecuteAsync((c, t) => _chain.Append(c, t, entry));
        }
    }

    private static AuditEntry Lease(string workspace) =>
        new(AuditActions.LeaseIssue, AuditOutcomes.Success) { Actor = "broker", UserId = "usr_a", WorkspaceId = workspace, CredentialId = "cred_a" };

    private static AuditEntry Session(string workspace, string address) =>
        new(AuditActions.SessionOpen, AuditOutcomes.Success) { Actor = "sidecar", UserId = "usr_a", WorkspaceId = workspace, RemoteAddress = address };

    private static AuditEntry Rejection(string credential) =>
        new(AuditActions.CredentialRejected, AuditOutcomes.Success) { Actor = "sidecar", UserId = "usr_a", WorkspaceId = "ws_a", CredentialId = credential };

    private static AuditEntry Failure(string address) =>
        new(AuditActions.AuthFailure, AuditOutcomes.Denied) { Actor = "api", RemoteAddress = address, Detail = "GET /api/v1/users" };
}
