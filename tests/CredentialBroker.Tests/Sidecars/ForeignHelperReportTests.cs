using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

public sealed class ForeignHelperReportTests : BrokerWithAliceTests
{
    [Fact]
    public async Task ReportForeignHelper_OwnLease_AuditedWithCommandNamesOnly()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-foreign-helper-1");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var lease = (await sidecar.GetAsync("https", "git.example.test")).Lease;
        var report = new ReportForeignHelperRequest { LeaseId = lease.LeaseId, Operation = "store" };
        report.Helpers.Add("store --file /home/alice/.secret-place");

        Assert.True((await sidecar.Grpc.ReportForeignHelperAsync(report, sidecar.Auth)).Recorded);

        var audit = await Host.Admin.GetStringAsync($"/api/v1/audit?action=lease.foreign_helper");
        Assert.Contains(lease.LeaseId, audit, StringComparison.Ordinal);
        Assert.Contains("other credential helpers too: store", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-place", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-foreign-helper-1", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportForeignHelper_AnotherWorkspacesLease_NotRecorded()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-foreign-helper-2");
        var owner = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var other = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var lease = (await owner.GetAsync("https", "git.example.test")).Lease;
        var report = new ReportForeignHelperRequest { LeaseId = lease.LeaseId, Operation = "erase" };
        report.Helpers.Add("cache");

        Assert.False((await other.Grpc.ReportForeignHelperAsync(report, other.Auth)).Recorded);
        Assert.DoesNotContain(lease.LeaseId, await Host.Admin.GetStringAsync("/api/v1/audit?action=lease.foreign_helper"), StringComparison.Ordinal);
    }
}
