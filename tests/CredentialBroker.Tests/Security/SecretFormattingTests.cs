using Xares.Broker.ApiKeys;
using Xares.Broker.Docker;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Sessions;
using Xares.Broker.Vault;
using Xares.Broker.Workspaces;
using Xares.Tests.Shared;

namespace Xares.Broker.Tests.Security;

/// <summary>Every broker type that carries a secret, formatted the ways a log line or exception would: the secret never shows.</summary>
public sealed class SecretFormattingTests
{
    private const string Secret = SecretFormatting.Secret;

    public static TheoryData<string, object> SecretBearing()
    {
        var now = DateTimeOffset.UnixEpoch;
        var lease = new LeaseRecord("lea_1", "wsp_1", "ses_1", "crd_1", 1, now, now, null, null);
        var session = new SessionContext("ses_1", "wsp_1", "usr_1", null, now, now);
        var workspace = new WorkspaceRecord("wsp_1", "usr_1", "dev", null, now, null, null);
        var apiKey = new CreatedApiKey("key_1", "ci", "xak_1234", ["admin"], null, now, null, Secret);
        var data = new TheoryData<string, object>
        {
            { nameof(IssuedGitLease), new IssuedGitLease(lease, "alice", Secret) },
            { nameof(IssuedAiLease), new IssuedAiLease(lease, "openai", null, Secret) },
            { nameof(SessionService.Grant), new SessionService.Grant(Secret, session, 3) },
            { nameof(WorkspaceLifecycle.Created), new WorkspaceLifecycle.Created(workspace, Secret, now) },
            { nameof(WorkspaceEndpoints.CreatedWorkspaceResponse), new WorkspaceEndpoints.CreatedWorkspaceResponse("wsp_1", "usr_1", "dev", null, now, Secret, now) },
            { nameof(WorkspaceEndpoints.BootstrapResponse), new WorkspaceEndpoints.BootstrapResponse("wsp_1", Secret, now) },
            { nameof(CreatedApiKey), apiKey },
            { nameof(RotatedApiKey), new RotatedApiKey(apiKey, "key_0", now) },
            { nameof(ContainerGrant), new ContainerGrant("wsp_1", Secret) },
            { "BrokerOptions master key", new BrokerOptions { MasterKeyBase64 = Secret } },
            { "BrokerOptions PostgreSQL password", new BrokerOptions { Database = $"Host=db.example.test;Username=xares;Password={Secret};Database=xares" } },
        };
        foreach (var (what, value) in BrokerProtoSecrets.Messages())
        {
            data.Add(what, value);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SecretBearing))]
    public void Format_SecretBearingType_NeverShowsSecret(string what, object value)
    {
        SecretFormatting.AssertNeverShows(what, value);
    }

    [Fact]
    public void MasterKeyLoad_InvalidValue_ExceptionNeverShowsIt()
    {
        var directory = Directory.CreateTempSubdirectory("xares-secret-format-").FullName;
        try
        {
            var refused = Assert.Throws<InvalidOperationException>(() => MasterKey.Load($"{Secret}!!", null, directory));
            Assert.DoesNotContain(Secret, refused.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
