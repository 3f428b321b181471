using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Security;

/// <summary>A whole broker flow logged at Verbose: no key, token or secret in any event's message, properties or exception.</summary>
public sealed class SecretLoggingTests
{
    private const string GitSecret = "ghp_LoggedNeverKnownValue7f3a9c";

    [Fact]
    public async Task FullFlow_AtVerbose_LogsNoSecret()
    {
        var sink = new CapturingLogSink();
        await using var host = await BrokerTestHost.StartAsync(services: services => services
            .AddSingleton<ILogEventSink>(sink)
            .AddSingleton(new LoggingLevelSwitch(LogEventLevel.Verbose)));
        var secrets = new List<string> { host.AdminKey, GitSecret };

        var user = await host.CreateUserAsync();
        await host.CreateGitCredentialAsync(user, "https://git.example.test", "alice", GitSecret);
        var apiKey = await host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "ci", scopes = new[] { "admin" } });
        secrets.Add((await apiKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!);
        var sidecar = await SidecarClient.CreateWorkspaceAsync(host, user);
        secrets.Add(sidecar.BootstrapToken);
        await sidecar.OpenAsync();
        secrets.Add(sidecar.Grant!.SessionToken);
        var lease = (await sidecar.GetAsync("https", "git.example.test", "org/repo.git")).Lease;
        Assert.Equal(GitSecret, lease.Secret);
        await sidecar.Grpc.ReportRejectionAsync(new ReportRejectionRequest { LeaseId = lease.LeaseId }, sidecar.Auth);
        secrets.Add((await sidecar.RefreshAsync()).SessionToken);
        // A superseded token presented again: the broker logs the refusal, not the token.
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await sidecar.Grpc.GetGitCredentialAsync(
            new GitCredentialRequest { Protocol = "https", Host = "git.example.test" }, new Grpc.Core.Metadata { { "authorization", $"Bearer {secrets[^2]}" } }));

        var idle = await SidecarClient.CreateWorkspaceAsync(host, user);
        secrets.Add(idle.BootstrapToken);
        var rebootstrap = await host.Admin.PostAsync($"/api/v1/workspaces/{idle.WorkspaceId}/bootstrap", null);
        rebootstrap.EnsureSuccessStatusCode();
        secrets.Add((await rebootstrap.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bootstrapToken").GetString()!);
        // A used bootstrap token presented again is refused and logged without it.
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await sidecar.Grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = sidecar.BootstrapToken }));

        Assert.Contains(sink.Events, e => e.Level < LogEventLevel.Information); // the level switch took effect
        foreach (var logEvent in sink.Events)
        {
            var text = string.Join('\n', [logEvent.RenderMessage(), .. logEvent.Properties.Select(p => $"{p.Key}={p.Value}"), logEvent.Exception?.ToString() ?? ""]);
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A log event carries a secret: {logEvent.MessageTemplate.Text}");
            }
        }
    }
}
