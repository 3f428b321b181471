using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

public sealed class LeaseTests : BrokerWithAliceTests
{
    [Fact]
    public async Task GetGitCredential_TwoAccountsOnOneHost_ChosenByPathAndUsername()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test/org1", "alice-org1", "secret-org1-aaaaaaaa");
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test/org2", "alice-org2", "secret-org2-bbbbbbbb");
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "bot", "secret-bot-cccccccc");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        Assert.Equal("secret-org1-aaaaaaaa", (await sidecar.GetAsync("https", "git.example.test", "org1/repo.git")).Lease.Secret);
        Assert.Equal("secret-org2-bbbbbbbb", (await sidecar.GetAsync("https", "git.example.test", "org2/repo.git")).Lease.Secret);
        Assert.Equal("secret-bot-cccccccc", (await sidecar.GetAsync("https", "git.example.test", "org3/repo.git")).Lease.Secret);
        Assert.Equal("secret-bot-cccccccc", (await sidecar.GetAsync("https", "git.example.test")).Lease.Secret);
        Assert.Equal("secret-bot-cccccccc", (await sidecar.GetAsync("https", "git.example.test", "org1/repo.git", "bot")).Lease.Secret);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", "git.example.test", "org1-evil/repo.git", "alice-org1")).ResultCase);
    }

    [Theory]
    [InlineData("http", "git.example.test", "")]       // an https token is never sent over http
    [InlineData("https", "git.example.test:8443", "")] // another port is another destination
    [InlineData("https", "other.example.test", "")]
    [InlineData("https", "git.example.test", "org/../x")]
    public async Task GetGitCredential_OtherSchemePortHostOrBadPath_NoMatch(string protocol, string host, string path)
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-aaaaaaaaaaaa");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync(protocol, host, path)).ResultCase);
    }

    [Fact]
    public async Task GetGitCredential_OtherUsersCredential_NeverIssued()
    {
        var bob = await Host.CreateUserAsync("bob");
        await Host.CreateGitCredentialAsync(bob, "https://git.example.test", "bob", "bob-secret-dddddddd");
        var alices = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await alices.GetAsync("https", "git.example.test")).ResultCase);
    }

    [Fact]
    public async Task GetGitCredential_HostOutsideAllowList_NoMatchAndAudited()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-aaaaaaaaaaaa");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice, ["*.allowed.test"])).OpenAsync();
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", "git.example.test")).ResultCase);
        var audit = await Host.Admin.GetStringAsync($"/api/v1/audit?workspaceId={sidecar.WorkspaceId}&action=lease.issue");
        Assert.Contains("denied", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetGitCredential_Issued_AuditedAndListedWithoutSecret()
    {
        var credentialId = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-eeeeeeeeeeee");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var lease = (await sidecar.GetAsync("https", "git.example.test")).Lease;

        Assert.Equal(credentialId, lease.CredentialId);
        Assert.InRange(lease.ExpiresAt.ToDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15.1));
        var audit = await Host.Admin.GetStringAsync($"/api/v1/audit?credentialId={credentialId}&action=lease.issue");
        Assert.Contains(lease.LeaseId, audit, StringComparison.Ordinal);
        var leases = await Host.Admin.GetStringAsync($"/api/v1/leases?workspaceId={sidecar.WorkspaceId}");
        Assert.Contains(lease.LeaseId, leases, StringComparison.Ordinal);
        var metrics = await Host.Admin.GetStringAsync("/metrics");
        Assert.DoesNotContain("secret-eeeeeeeeeeee", audit + leases + metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetGitCredential_CredentialExpiresSoon_LeaseEndsWithIt()
    {
        var expires = DateTimeOffset.UtcNow.AddMinutes(3);
        var response = await Host.Admin.PostAsJsonAsync($"/api/v1/users/{Alice}/credentials",
            new { kind = "git", provider = "generic", url = "https://git.example.test", username = "a", secret = "secret-ffffffffffff", expiresAt = expires });
        response.EnsureSuccessStatusCode();
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var lease = (await sidecar.GetAsync("https", "git.example.test")).Lease;
        Assert.True(lease.ExpiresAt.ToDateTimeOffset() <= expires.AddMilliseconds(1));
    }

    [Fact]
    public async Task PatchExpiresAt_Earlier_RevokesLiveLeasesAndTheNextLeaseEndsWithIt()
    {
        var id = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "a", "secret-expiry-shortened");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var before = (await sidecar.GetAsync("https", "git.example.test")).Lease;
        var expires = DateTimeOffset.UtcNow.AddMinutes(2);

        (await Host.Admin.PatchJsonAsync($"/api/v1/credentials/{id}", new { expiresAt = expires })).EnsureSuccessStatusCode();

        var validation = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { before.LeaseId } }, sidecar.Auth);
        Assert.Empty(validation.ValidLeaseIds);
        var after = (await sidecar.GetAsync("https", "git.example.test")).Lease;
        Assert.NotEqual(before.LeaseId, after.LeaseId);
        Assert.True(after.ExpiresAt.ToDateTimeOffset() <= expires.AddMilliseconds(1));
    }

    [Fact]
    public async Task PatchExpiresAt_RemovedOrLater_KeepsLiveLeases()
    {
        var response = await Host.Admin.PostAsJsonAsync($"/api/v1/users/{Alice}/credentials",
            new { kind = "git", provider = "generic", url = "https://git.example.test", username = "a", secret = "secret-expiry-extended", expiresAt = DateTimeOffset.UtcNow.AddHours(1) });
        var id = (await response.JsonAsync(201)).Str("id");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var lease = (await sidecar.GetAsync("https", "git.example.test")).Lease;

        (await Host.Admin.PatchJsonAsync($"/api/v1/credentials/{id}", new { expiresAt = DateTimeOffset.UtcNow.AddDays(2) })).EnsureSuccessStatusCode();
        (await Host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", "{\"expiresAt\":null}")).EnsureSuccessStatusCode();

        var validation = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { lease.LeaseId } }, sidecar.Auth);
        Assert.Equal([lease.LeaseId], validation.ValidLeaseIds);
    }

    [Fact]
    public async Task GetGitCredential_UrlEditedInDatabase_FailsToDecryptAndAudited()
    {
        var credentialId = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-gggggggggggg");
        using (var connection = new SqliteConnection($"Data Source={Host.DatabasePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE credentials SET url = 'https://evil.example.test', host = 'evil.example.test' WHERE id = $id";
            command.Parameters.AddWithValue("$id", credentialId);
            Assert.Equal(1, command.ExecuteNonQuery());
        }
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", "evil.example.test")).ResultCase);
        var audit = await Host.Admin.GetStringAsync($"/api/v1/audit?credentialId={credentialId}&action=credential.integrity");
        Assert.Contains("failure", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportRejection_SameLeaseTwice_CountsOnce()
    {
        var credentialId = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-hhhhhhhhhhhh");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var lease = (await sidecar.GetAsync("https", "git.example.test")).Lease;

        Assert.True((await sidecar.Grpc.ReportRejectionAsync(new ReportRejectionRequest { LeaseId = lease.LeaseId }, sidecar.Auth)).Counted);
        Assert.False((await sidecar.Grpc.ReportRejectionAsync(new ReportRejectionRequest { LeaseId = lease.LeaseId }, sidecar.Auth)).Counted);

        var credential = await Host.Admin.GetFromJsonAsync<CredentialBody>($"/api/v1/credentials/{credentialId}");
        Assert.Equal(1, credential!.RejectionCount);
        Assert.True(credential.Flagged);
        Assert.Equal(HttpStatusCode.OK, (await Host.Admin.GetAsync($"/api/v1/credentials/{credentialId}")).StatusCode); // flagged, not deleted
    }

    [Fact]
    public async Task WatchRevocations_CredentialDeleted_EventWithinOneSecond()
    {
        var credentialId = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-iiiiiiiiiiii");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        _ = await sidecar.GetAsync("https", "git.example.test");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var stream = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = sidecar.Grant!.RevocationSequence }, sidecar.Auth, cancellationToken: cts.Token);

        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.NoContent, (await Host.Admin.DeleteAsync($"/api/v1/credentials/{credentialId}")).StatusCode);
        Assert.True(await stream.ResponseStream.MoveNext(cts.Token));
        var elapsed = clock.Elapsed;

        Assert.Equal(RevocationEvent.Types.Kind.Credential, stream.ResponseStream.Current.Kind);
        Assert.Equal(credentialId, stream.ResponseStream.Current.TargetId);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"took {elapsed}");
    }

    [Fact]
    public async Task WatchRevocations_RevokedWhileDisconnected_DeliveredOnResumeAndLeaseInvalid()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "secret-jjjjjjjjjjjj");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var lease = (await sidecar.GetAsync("https", "git.example.test")).Lease;
        var lastSeen = sidecar.Grant!.RevocationSequence;

        Assert.Equal(HttpStatusCode.NoContent, (await Host.Admin.DeleteAsync($"/api/v1/leases/{lease.LeaseId}")).StatusCode);

        var validation = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { lease.LeaseId } }, sidecar.Auth);
        Assert.Empty(validation.ValidLeaseIds);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var stream = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = lastSeen }, sidecar.Auth, cancellationToken: cts.Token);
        Assert.True(await stream.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(RevocationEvent.Types.Kind.Lease, stream.ResponseStream.Current.Kind);
        Assert.Equal(lease.LeaseId, stream.ResponseStream.Current.TargetId);
    }

    [Fact]
    public async Task ListGitTargets_PathScopedCredential_UsesHttpPath()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test/org1", "alice", "secret-kkkkkkkkkkkk");
        await Host.CreateGitCredentialAsync(Alice, "https://other.example.test:8443", "alice", "secret-llllllllllll");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var targets = await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth);
        Assert.Contains(targets.Targets, t => t.Url == "https://git.example.test" && t.UseHttpPath);
        Assert.Contains(targets.Targets, t => t.Url == "https://other.example.test:8443" && !t.UseHttpPath);
    }

    private sealed record CredentialBody(string Id, int RejectionCount, bool Flagged);
}
