using System.Diagnostics;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Git;
using Xares.Sidecar.Tests.Fakes;

namespace Xares.Sidecar.Tests.Git;

public sealed class GitCredentialServiceTests
{
    [Fact]
    public async Task Get_MissThenHit_AsksBrokerOnce()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_abc");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var first = (await sidecar.GetAsync("github.com", "org/repo.git")).GitGet;
        var second = (await sidecar.GetAsync("GitHub.com:443", "org/repo.git")).GitGet;

        Assert.True(first.Found);
        Assert.Equal("alice", first.Username);
        Assert.Equal(broker.State.IssuedSecrets[0], first.Password);
        Assert.InRange(first.PasswordExpiryUtc, DateTimeOffset.UtcNow.AddMinutes(9).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(11).ToUnixTimeSeconds());
        Assert.Equal(first, second);
        Assert.Equal(1, broker.State.GetGitCredentialCalls);
    }

    [Fact]
    public async Task Get_NoCredential_AnswersNotFound()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var response = await sidecar.GetAsync("gitlab.example.com");

        Assert.Equal(SidecarResponse.ResponseOneofCase.GitGet, response.ResponseCase);
        Assert.False(response.GitGet.Found);
        Assert.Equal("", response.GitGet.Password);
    }

    [Fact]
    public async Task Get_ShortLease_ServedButNotCached()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.LeaseLifetime = TimeSpan.FromSeconds(20);
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_abc");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        Assert.True((await sidecar.GetAsync("github.com")).GitGet.Found);
        Assert.True((await sidecar.GetAsync("github.com")).GitGet.Found);

        Assert.Equal(2, broker.State.GetGitCredentialCalls);
        Assert.Equal(0, sidecar.Runtime.Cache.Count);
    }

    [Theory]
    [InlineData("\u212Aithub.com", "org/repo.git")]
    [InlineData(" github.com", "org/repo.git")]
    [InlineData("github.com", "/org/repo.git")]
    [InlineData("github.com", "org/repo.git/")]
    public async Task Get_CachedHostSpelledAsTheBrokerWouldNotRead_NotFoundWithoutAskingTheBroker(string host, string path)
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_abc");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        Assert.True((await sidecar.GetAsync("github.com", "org/repo.git")).GitGet.Found);

        var response = await sidecar.GetAsync(host, path);

        Assert.False(response.GitGet.Found);
        Assert.Equal("", response.GitGet.Password);
        Assert.Equal(1, broker.State.GetGitCredentialCalls);
        Assert.Equal(1, sidecar.Runtime.Cache.Count);
    }

    [Theory]
    [InlineData("", "github.com")]
    [InlineData("https", "")]
    [InlineData("https", "github.com\nhost=evil.com")]
    public async Task Get_MalformedRequest_AnswersBadRequest(string protocol, string host)
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var response = await sidecar.SendAsync(new SidecarRequest { GitGet = new GitGetRequest { Protocol = protocol, Host = host } });

        Assert.Equal(Errors.BadRequestCode, response.Error.Code);
        Assert.Equal(0, broker.State.GetGitCredentialCalls);
    }

    [Fact]
    public async Task ForeignHelper_CachedLeaseSecret_ReportsLeaseIdAndKeepsItCached()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_abc");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var lease = (await sidecar.GetAsync("github.com")).GitGet;

        GitForeignHelperRequest Report(string password) => new()
        {
            Protocol = "https", Host = "github.com", Username = "alice", Password = password, Operation = "store", Helpers = { "store" },
        };
        var wrong = await sidecar.SendAsync(new SidecarRequest { GitForeignHelper = Report("not-the-secret") });
        var right = await sidecar.SendAsync(new SidecarRequest { GitForeignHelper = Report(lease.Password) });

        Assert.False(wrong.GitForeignHelper.Reported);
        Assert.True(right.GitForeignHelper.Reported);
        var report = Assert.Single(broker.State.ForeignHelperReports);
        Assert.Equal(("lease_1", "store", "store"), (report.LeaseId, report.Operation, Assert.Single(report.Helpers)));
        // Reporting is not erasing: the next get is still served from the cache.
        Assert.Equal(lease.Password, (await sidecar.GetAsync("github.com")).GitGet.Password);
        Assert.Equal(1, broker.State.GetGitCredentialCalls);
    }

    [Fact]
    public async Task Erase_SameLeaseTwice_ReportsOnce()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_abc");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var lease = (await sidecar.GetAsync("github.com")).GitGet;

        var wrong = await sidecar.EraseAsync("github.com", "alice", "not-the-secret");
        var results = await Task.WhenAll(
            sidecar.EraseAsync("github.com", "alice", lease.Password),
            sidecar.EraseAsync("github.com", "alice", lease.Password));
        var again = await sidecar.EraseAsync("github.com", "alice", lease.Password);

        Assert.False(wrong.Reported);
        Assert.Single(results, r => r.Reported);
        Assert.False(again.Reported);
        Assert.Equal(["lease_1"], broker.State.Rejections);
        // The erased lease is gone: the next get asks the broker for a new one.
        Assert.NotEqual(lease.Password, (await sidecar.GetAsync("github.com")).GitGet.Password);
        Assert.Equal(2, broker.State.GetGitCredentialCalls);
    }

    [Fact]
    public async Task Get_SessionRateLimited_MissFailsFastCacheServedSessionKept()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_abc");
        broker.State.AddCredential("gitlab.com", "cred_2", "bob", "glpat_abc");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var cached = (await sidecar.GetAsync("github.com")).GitGet;

        // What the broker's per-session token bucket answers when it is empty.
        broker.State.GitCredentialFailure = new Grpc.Core.Status(Grpc.Core.StatusCode.ResourceExhausted, "This session is calling the broker too often");
        var clock = Stopwatch.StartNew();
        var miss = await sidecar.GetAsync("gitlab.com");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"rate-limited miss took {clock.Elapsed}");
        Assert.Equal(Errors.BrokerUnavailableCode, miss.Error.Code);
        Assert.Contains("ResourceExhausted", miss.Error.Message);
        Assert.Equal(cached, (await sidecar.GetAsync("github.com")).GitGet);
        // Not a session failure: once the bucket refills, the same session is served again.
        broker.State.GitCredentialFailure = null;
        Assert.StartsWith("glpat_abc", (await sidecar.GetAsync("gitlab.com")).GitGet.Password, StringComparison.Ordinal);
        Assert.Equal(1, broker.State.OpenSessionCalls);
    }

    [Fact]
    public async Task Get_BrokerDown_ServesCachedLeaseAndFailsMissesFast()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_abc");
        broker.State.AddCredential("gitlab.com", "cred_2", "bob", "glpat_abc");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var cached = (await sidecar.GetAsync("github.com")).GitGet;

        await broker.StopAsync();

        // Straight after the broker died, before the sidecar necessarily noticed.
        var clock = Stopwatch.StartNew();
        var miss = await sidecar.GetAsync("gitlab.com");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"miss took {clock.Elapsed}");
        Assert.Equal(Errors.BrokerUnavailableCode, miss.Error.Code);
        Assert.Contains("unreachable", miss.Error.Message);

        await Until.TrueAsync(() => sidecar.Runtime.Link.State == LinkState.Disconnected, what: "the sidecar to notice");
        clock.Restart();
        var knownDown = await sidecar.GetAsync("gitlab.com");
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), $"known-down miss took {clock.Elapsed}");
        Assert.Equal(Errors.BrokerUnavailableCode, knownDown.Error.Code);

        var hit = (await sidecar.GetAsync("github.com")).GitGet;
        Assert.Equal(cached, hit);
        Assert.Equal(1, broker.State.GetGitCredentialCalls);
    }

    [Fact]
    public async Task Targets_BrokerListsTargets_MapsThem()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.Targets.Add(new Protos.Broker.V1.GitTarget { Url = "https://github.com", UseHttpPath = true });
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var response = await sidecar.SendAsync(new SidecarRequest { GitTargets = new GitTargetsRequest() });

        var target = Assert.Single(response.GitTargets.Targets);
        Assert.Equal("https://github.com", target.Url);
        Assert.True(target.UseHttpPath);
    }
}
