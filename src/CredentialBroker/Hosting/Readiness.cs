using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Hosting;

/// <summary>GET /healthz: the process answers.</summary>
internal sealed record HealthStatus(string Status);

/// <summary>GET /readyz when ready: the database answers and a key-encryption key is loaded (its version only, never key material).</summary>
internal sealed record ReadinessReport(string Status, string Database, KeyringReadiness Keyring);

internal sealed record KeyringReadiness(bool Loaded, int CurrentVersion);

internal static class Readiness
{
    public static async Task<Results<Ok<ReadinessReport>, ProblemHttpResult>> Check(Database database, Keyring keyring)
    {
        int keyVersion;
        try
        {
            await PingAsync(database);
            keyVersion = keyring.CurrentVersion; // rechecks the database every few seconds
        }
        catch (Exception)
        {
            return TypedResults.Problem(title: "The database is unreachable.", statusCode: StatusCodes.Status503ServiceUnavailable,
                type: Api.ProblemMapping.TypeBase + "unavailable");
        }
        if (keyVersion <= 0)
        {
            return TypedResults.Problem(title: "No key-encryption key is loaded.", statusCode: StatusCodes.Status503ServiceUnavailable,
                type: Api.ProblemMapping.TypeBase + "unavailable");
        }
        return TypedResults.Ok(new ReadinessReport("ready", "reachable", new KeyringReadiness(Loaded: true, keyVersion)));
    }

    /// <summary>The gRPC health service's database check (the overall "" service answers from it).</summary>
    public static async Task<HealthCheckResult> DatabaseHealthAsync(Database database)
    {
        try
        {
            await PingAsync(database);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("The database is unreachable.", ex);
        }
    }

    private static Task<object?> PingAsync(Database database) => database.ReadAsync(c => Sql.Scalar(c, null, "SELECT 1"));
}
