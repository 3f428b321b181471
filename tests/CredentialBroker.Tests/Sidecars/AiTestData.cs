using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

/// <summary>AI credentials through REST and AI calls through a <see cref="SidecarClient"/>, for the AI and usage tests.</summary>
internal static class AiTestData
{
    public static async Task<string> CreateAiCredentialAsync(this BrokerTestHost host, string userId, string provider, string secret,
        string? baseUrl = null, long? monthlyLimit = null, DateTimeOffset? expiresAt = null, string? delivery = null)
    {
        var body = new Dictionary<string, object?> { ["kind"] = "ai", ["provider"] = provider, ["secret"] = secret };
        if (delivery is not null)
        {
            body["delivery"] = delivery;
        }
        if (baseUrl is not null)
        {
            body["baseUrl"] = baseUrl;
        }
        if (monthlyLimit is not null)
        {
            body["monthlyLimit"] = monthlyLimit;
        }
        if (expiresAt is not null)
        {
            body["expiresAt"] = expiresAt;
        }
        var response = await host.Admin.PostAsJsonAsync($"/api/v1/users/{userId}/credentials", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"creating an ai credential failed: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    public static Task<AiCredentialReply> GetAiAsync(this SidecarClient sidecar, string provider, string mode = "proxy", string credentialId = "") =>
        sidecar.Grpc.GetAiCredentialAsync(new AiCredentialRequest { Provider = provider, Mode = mode, CredentialId = credentialId }, sidecar.Auth).ResponseAsync;

    public static Task<ReportAiUsageReply> ReportAsync(this SidecarClient sidecar, string leaseId, long requests, long inputTokens = 0, long outputTokens = 0,
        long returned = 0) =>
        sidecar.Grpc.ReportAiUsageAsync(
            new ReportAiUsageRequest { LeaseId = leaseId, Requests = requests, InputTokens = inputTokens, OutputTokens = outputTokens, ReturnedRequests = returned },
            sidecar.Auth).ResponseAsync;

    public static Task<DrawAiRequestsReply> DrawAsync(this SidecarClient sidecar, string leaseId, long requests) =>
        sidecar.Grpc.DrawAiRequestsAsync(new DrawAiRequestsRequest { LeaseId = leaseId, Requests = requests }, sidecar.Auth).ResponseAsync;

    /// <summary>The credential as REST shows it.</summary>
    public static async Task<JsonElement> CredentialAsync(this BrokerTestHost host, string credentialId) =>
        JsonDocument.Parse(await host.Admin.GetStringAsync($"/api/v1/credentials/{credentialId}")).RootElement.Clone();

    /// <summary>The audit records of one action (and credential, when given), as REST returns them.</summary>
    public static Task<string> AuditAsync(this BrokerTestHost host, string action, string? credentialId = null) =>
        host.Admin.GetStringAsync($"/api/v1/audit?action={action}" + (credentialId is null ? "" : $"&credentialId={credentialId}"));

    public static int AuditCount(BrokerTestHost host, string action, string credentialId) =>
        Convert.ToInt32(Scalar(host, "SELECT COUNT(*) FROM audit_log WHERE action = $a AND credential_id = $c", ("$a", action), ("$c", credentialId)));

    public static object? Scalar(BrokerTestHost host, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection($"Data Source={host.DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command.ExecuteScalar();
    }
}
