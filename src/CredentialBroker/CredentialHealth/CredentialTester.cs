using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// Tests one credential against its provider: opens the secret in the broker, runs the provider's
/// probe through <see cref="OutboundHttp"/> (rule j), then records the result and its audit record
/// in one write unit. The secret exists as a string only for the probe's request headers.
/// </summary>
internal sealed class CredentialTester(Database database, WriteQueue writes, Keyring keyring, AuditChain audit, OutboundHttp http, TimeProvider time,
    ILogger<CredentialTester> logger)
{
    public const string TriggerApi = "api";
    public const string TriggerSchedule = "schedule";

    /// <summary>Tests the credential <paramref name="id"/>; null when it does not exist (or the caller may not see it, with a caller: 404).</summary>
    public async Task<CredentialTestResult?> TestAsync(string id, Caller? caller, string trigger, string? remoteAddress, CancellationToken cancellationToken)
    {
        var record = await database.ReadAsync(c => CredentialStore.Find(c, null, id));
        if (caller is not null)
        {
            record = CredentialWriter.Visible(caller, record);
        }
        if (record is null)
        {
            return null;
        }
        var target = new ProbeTarget(record.Kind, record.Provider, record.Url, record.Username);
        var outcome = await ProbeAsync(record, target, cancellationToken);
        var result = new CredentialTestResult(outcome.Ok ? CredentialTestResult.Ok : CredentialTestResult.Failed, time.GetUtcNow(), outcome.Reason, outcome.Identity);
        await writes.ExecuteAsync((c, t) =>
        {
            CredentialHealthStore.Record(c, t, record.Id, record.SecretVersion, result);
            audit.Append(c, t, new AuditEntry(CredentialHealthAuditActions.Test, outcome.Ok ? AuditOutcomes.Success : AuditOutcomes.Failure)
            {
                Actor = caller?.Actor ?? "broker", UserId = record.UserId, CredentialId = record.Id, RemoteAddress = remoteAddress,
                Detail = Detail(record, result, trigger),
            });
        });
        BrokerMetrics.CredentialTests.WithLabels(record.Provider, result.Status, trigger).Inc();
        CredentialHealthLog.Tested(logger, record.Id, record.Provider, trigger, result.Status, result.Reason);
        return result;
    }

    private async Task<ProbeOutcome> ProbeAsync(CredentialRecord record, ProbeTarget target, CancellationToken cancellationToken)
    {
        if (ProviderProbes.For(target) is not { } probe)
        {
            return ProbeOutcome.Failure("the stored destination no longer parses (edited in the database?)");
        }
        byte[] plaintext;
        try
        {
            plaintext = keyring.Open(record.Sealed, record.Context);
        }
        catch (SecretIntegrityException)
        {
            return ProbeOutcome.Failure("the stored secret failed its integrity check (edited in the database?); it was not sent");
        }
        try
        {
            return await probe.RunAsync(http, target, Encoding.UTF8.GetString(plaintext), cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static string Detail(CredentialRecord record, CredentialTestResult result, string trigger)
    {
        var verdict = result.Status == CredentialTestResult.Ok
            ? result.Identity?.Login is { } login ? $"ok (login {login})" : "ok"
            : $"failed: {result.Reason}";
        return $"{record.Kind} {record.Provider} secret version {record.SecretVersion}, {trigger}: {verdict}";
    }
}

/// <summary>Audit action names of credential health (queried through GET /api/v1/audit?action=).</summary>
internal static class CredentialHealthAuditActions
{
    public const string Test = "credential.test";
}
