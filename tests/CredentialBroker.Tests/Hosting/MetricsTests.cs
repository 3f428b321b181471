using System.Globalization;
using System.Net.Http.Headers;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Hosting;

/// <summary>
/// prometheus-net's registry is process-wide and other tests run alongside, so these assert
/// that counters grew, never their absolute values.
/// </summary>
public sealed class MetricsTests : BrokerWithAliceTests
{
    private const string Secret = "metrics-secret-9f8e7d6c5b4a";

    [Fact]
    public async Task Metrics_AfterLeaseAndCredentialDelete_CountersIncreased()
    {
        var credentialId = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", Secret);
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var before = await ScrapeAsync();

        Assert.Equal(Secret, (await sidecar.GetAsync("https", "git.example.test")).Lease.Secret);
        (await Host.Admin.DeleteAsync($"/api/v1/credentials/{credentialId}")).EnsureSuccessStatusCode();
        var after = await ScrapeAsync();

        Assert.True(Value(after, "xares_leases_issued_total", "kind=\"git\"") > Value(before, "xares_leases_issued_total", "kind=\"git\""));
        Assert.True(Value(after, "xares_lease_requests_total", "kind=\"git\",outcome=\"issued\"")
            > Value(before, "xares_lease_requests_total", "kind=\"git\",outcome=\"issued\""));
        Assert.True(Value(after, "xares_revocations_total", "kind=\"credential\"") > Value(before, "xares_revocations_total", "kind=\"credential\""));
        Assert.True(Value(after, "xares_audit_records_total", "action=\"lease.issue\"") > Value(before, "xares_audit_records_total", "action=\"lease.issue\""));
        Assert.True(Value(after, "xares_audit_records_total", "action=\"credential.delete\"")
            > Value(before, "xares_audit_records_total", "action=\"credential.delete\""));
        Assert.Contains(after.Split('\n'), line => line.StartsWith("xares_active_sessions ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_ActiveSessions_CountsThisHostsOpenSession()
    {
        await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        // A scrape-time gauge from this host's database (only these tests scrape, one at a time).
        Assert.True(Value(await ScrapeAsync(), "xares_active_sessions", null) >= 1);
    }

    [Fact]
    public async Task Metrics_FailedRestAuthentication_CountedWithoutTheToken()
    {
        const string forged = "xar_forged0000000000000000000000000000";
        var before = await ScrapeAsync();
        using var client = Host.CreateClient(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", forged);
        await client.GetAsync("/api/v1/users");
        var after = await ScrapeAsync();

        Assert.True(Value(after, "xares_auth_failures_total", "surface=\"rest\"") > Value(before, "xares_auth_failures_total", "surface=\"rest\""));
        Assert.DoesNotContain(forged, after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_NeverContainSecretsOrTokens()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", Secret);
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        await sidecar.GetAsync("https", "git.example.test");

        var metrics = await ScrapeAsync();

        Assert.DoesNotContain(Secret, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(sidecar.Grant!.SessionToken, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(sidecar.BootstrapToken, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(Host.AdminKey, metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_RestAndGrpcRequests_CountedWithLatencies()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        await sidecar.Grpc.ListGitTargetsAsync(new Xares.Protos.Broker.V1.ListGitTargetsRequest(), sidecar.Auth);
        await Host.Admin.GetAsync("/api/v1/users");

        var lines = (await ScrapeAsync()).Split('\n');

        // prometheus-net's HTTP middleware sees gRPC calls too (HTTP/2 POSTs), labelled with their method's route
        // (the gRPC status travels in trailers, so their code label is the HTTP 200).
        Assert.Contains(lines, l => l.StartsWith("http_requests_received_total{", StringComparison.Ordinal)
            && l.Contains("endpoint=\"/api/v1/users/\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("http_requests_received_total{", StringComparison.Ordinal)
            && l.Contains("endpoint=\"/xares.broker.v1.SidecarBroker/ListGitTargets\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("http_request_duration_seconds_bucket{", StringComparison.Ordinal)
            && l.Contains("ListGitTargets", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("http_request_duration_seconds_sum{", StringComparison.Ordinal)
            && l.Contains("endpoint=\"/api/v1/users/\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_OwnProcessAndHttpFamiliesOnly_CountersTotalDurationsSeconds()
    {
        var types = (await ScrapeAsync()).Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')).Select(p => (Name: p[2], Type: p[3])).ToList();

        // The runtime's meters and event counters (msquic, Kestrel, System.Runtime) stay out.
        Assert.All(types, t => Assert.Matches("^(xares_|http_|process_|dotnet_)", t.Name));
        Assert.All(types.Where(t => t.Type == "counter"), t => Assert.EndsWith("_total", t.Name, StringComparison.Ordinal));
        Assert.All(types.Where(t => t.Type == "histogram"), t => Assert.EndsWith("_seconds", t.Name, StringComparison.Ordinal));
        Assert.Contains(types, t => t is { Name: "xares_write_queue_depth", Type: "gauge" });
    }

    [Fact]
    public async Task Metrics_BuildInfo_CarriesTheVersion()
    {
        var metrics = await ScrapeAsync();

        Assert.Equal(1, Value(metrics, "xares_build_info", $"version=\"{Xares.Broker.Hosting.BrokerMetrics.Version}\""));
        Assert.NotEqual("unknown", Xares.Broker.Hosting.BrokerMetrics.Version);
    }

    [Fact]
    public async Task Metrics_LeaseRequestDuration_ObservedPerKindAndOutcome()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", Secret);
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var before = await ScrapeAsync();

        await sidecar.GetAsync("https", "git.example.test");
        await sidecar.GetAsync("https", "nothing-stored.example.test");
        var after = await ScrapeAsync();

        foreach (var outcome in new[] { "issued", "no_match" })
        {
            var labels = $"kind=\"git\",outcome=\"{outcome}\"";
            Assert.True(Value(after, "xares_lease_request_duration_seconds_count", labels) > Value(before, "xares_lease_request_duration_seconds_count", labels));
            Assert.True(Value(after, "xares_lease_request_duration_seconds_sum", labels) > 0);
        }
    }

    private async Task<string> ScrapeAsync()
    {
        using var client = Host.CreateClient(null);
        return await client.GetStringAsync("/metrics");
    }

    /// <summary>The sample of <paramref name="name"/> whose labels are exactly <paramref name="labels"/>; 0 when absent.</summary>
    private static double Value(string exposition, string name, string? labels)
    {
        var prefix = labels is null ? name + " " : $"{name}{{{labels}}} ";
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[prefix.Length..].Trim(), CultureInfo.InvariantCulture);
    }
}
