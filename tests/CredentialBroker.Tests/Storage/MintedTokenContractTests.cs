using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Xares.Broker.Hosting;
using Xares.Broker.Retention;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.DevGitServer.GitHub;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// GitHub App tokens on SQLite and PostgreSQL: registration, mint and reuse, the lease claim,
/// revocation through the upstream outbox, narrowing the policy, and pruning expired tokens.
/// </summary>
public abstract class MintedTokenContractTests(StorageBackend backend)
{
    [Fact]
    public async Task MintReuseRevokeNarrowPrune_SameOnEveryBackend()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var database = db;
        await using var github = await GitHubApiStandIn.StartAsync();
        using var key = RSA.Create(2048);
        var verifying = RSA.Create();
        verifying.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out var _);
        github.AddApp("5", verifying);
        github.AddInstallation(new StandInInstallation(50, "5", "acme", ["app", "lib"]));
        await using var broker = await BrokerTestHost.StartAsync(o => o with
        {
            DataDirectory = db.Directory, Database = db.ConnectionString, OutboundAllow = ["127.0.0.1"], EndedStateRetention = TimeSpan.Zero,
        });
        (await broker.Admin.PostAsJsonAsync("/api/v1/github-apps", new
        {
            name = "a", appId = 5, privateKey = key.ExportRSAPrivateKeyPem(), apiUrl = github.Origin, gitUrl = "https://git.acme.test",
            installations = new[] { new { owner = "acme", installationId = 50 } },
        })).EnsureSuccessStatusCode();
        var user = await broker.CreateUserAsync("ann");
        var repositories = new[] { new { host = "git.acme.test", name = "acme/app", access = "write" }, new { host = "git.acme.test", name = "acme/lib", access = "write" } };
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(broker, user, repositories: repositories)).OpenAsync();

        var first = (await sidecar.GetAsync("https", "git.acme.test", "acme/app.git")).Lease;
        var second = (await sidecar.GetAsync("https", "git.acme.test", "acme/lib.git")).Lease;
        Assert.Equal(first.Secret, second.Secret);
        Assert.Single(github.Mints);
        Assert.DoesNotContain(github.Calls, c => c.Contains("/installation", StringComparison.Ordinal) && c.StartsWith("GET", StringComparison.Ordinal));
        var valid = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { first.LeaseId, second.LeaseId } }, sidecar.Auth);
        Assert.Equal(2, valid.ValidLeaseIds.Count);

        // Revoking one lease revokes the shared token: both leases end, GitHub is told.
        (await broker.Admin.DeleteAsync($"/api/v1/leases/{first.LeaseId}")).EnsureSuccessStatusCode();
        Assert.Empty((await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { first.LeaseId, second.LeaseId } }, sidecar.Auth)).ValidLeaseIds);
        Assert.True(await Xares.DevKit.Poll.UntilAsync(() => Task.FromResult(github.RevokedTokens.Count == 1), TimeSpan.FromSeconds(10)));

        // Narrowing to acme/app: the new token covers app only, and the old lib-covering one is revoked.
        var third = (await sidecar.GetAsync("https", "git.acme.test", "acme/app.git")).Lease;
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/workspaces/{sidecar.WorkspaceId}")
        {
            Content = JsonContent.Create(new { repositories = new[] { repositories[0] } }),
        };
        var patched = await (await broker.Admin.SendAsync(patch)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Single(patched.GetProperty("repositories").EnumerateArray());
        Assert.Empty((await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { third.LeaseId } }, sidecar.Auth)).ValidLeaseIds);
        var fourth = (await sidecar.GetAsync("https", "git.acme.test", "acme/app.git")).Lease;
        Assert.Equal(["app"], github.Mints[^1].Repositories);
        Assert.True(await Xares.DevKit.Poll.UntilAsync(() => Task.FromResult(github.RevokedTokens.Count == 2), TimeSpan.FromSeconds(10)));

        // Retention with no grace keeps what is live or still waiting for GitHub, nothing else matters here.
        var pruned = await broker.Get<EndedStatePruner>().PruneAsync();
        Assert.Equal(0, pruned.MintedTokens);
        Assert.Single((await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { fourth.LeaseId } }, sidecar.Auth)).ValidLeaseIds);
    }

    [Fact]
    public async Task TwoReplicas_ConcurrentFills_OneMintForTheScope()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var database = db;
        await using var github = await GitHubApiStandIn.StartAsync();
        using var key = RSA.Create(2048);
        var verifying = RSA.Create();
        verifying.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out var _);
        github.AddApp("6", verifying);
        github.AddInstallation(new StandInInstallation(60, "6", "acme", ["app"]));
        BrokerOptions Options(BrokerOptions o) => o with { DataDirectory = db.Directory, Database = db.ConnectionString, OutboundAllow = ["127.0.0.1"] };
        await using var a = await BrokerTestHost.StartAsync(Options);
        await using var b = await BrokerTestHost.StartAsync(Options);
        (await a.Admin.PostAsJsonAsync("/api/v1/github-apps", new
        {
            name = "a", appId = 6, privateKey = key.ExportRSAPrivateKeyPem(), apiUrl = github.Origin, gitUrl = "https://git.acme.test",
        })).EnsureSuccessStatusCode();
        var user = await a.CreateUserAsync("ann");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(b, user, repositories: new[] { new { host = "git.acme.test", name = "acme/app", access = "read" } })).OpenAsync();
        var onA = new SidecarBroker.SidecarBrokerClient(a.GrpcChannel);
        var request = new GitCredentialRequest { Protocol = "https", Host = "git.acme.test", Path = "acme/app.git" };

        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => i % 2 == 0
            ? onA.GetGitCredentialAsync(request, sidecar.Auth).ResponseAsync
            : sidecar.Grpc.GetGitCredentialAsync(request, sidecar.Auth).ResponseAsync));

        Assert.Single(github.Mints);
        Assert.Single(replies.Select(r => r.Lease.Secret).Distinct());
        // The claim went with the stored token, in the same write: none is left for a later mint to wait on.
        Assert.Equal(0L, Convert.ToInt64(await a.Get<Database>().ReadAsync(c => Sql.Scalar(c, null, "SELECT COUNT(*) FROM mint_claims"))));
    }
}

public sealed class SqliteMintedTokenContractTests() : MintedTokenContractTests(new SqliteBackend());

public sealed class PostgresMintedTokenContractTests() : MintedTokenContractTests(new PostgresBackend());
