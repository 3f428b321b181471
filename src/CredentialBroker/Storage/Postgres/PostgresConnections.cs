using Npgsql;

namespace Xares.Broker.Storage.Postgres;

/// <summary>Builds the Npgsql data source the broker uses, with pooling and statement preparation on.</summary>
internal static class PostgresConnections
{
    /// <param name="resetOnReuse">False for a pool whose users leave no session state (Npgsql then skips its reset statements on reuse).</param>
    public static NpgsqlDataSource CreateDataSource(string connectionString, bool resetOnReuse, out string description)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!resetOnReuse)
        {
            builder.NoResetOnClose = true;
        }
        // Statements the stores repeat (every lease issue runs the same few) are prepared once per
        // physical connection, unless the operator chose otherwise (e.g. behind a transaction pooler).
        if (!Names(connectionString, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }
        if (!Names(connectionString, "Application Name", "ApplicationName"))
        {
            builder.ApplicationName = "xares-broker";
        }
        description = $"postgres://{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    // NpgsqlConnectionStringBuilder.ContainsKey answers true for every keyword it knows, set or
    // not; only the string as given tells whether the operator chose a value.
    private static bool Names(string connectionString, params string[] keywords)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return keywords.Any(given.ContainsKey);
    }

    /// <summary>
    /// Errors after which the transaction or connection cannot go on (connection lost, server
    /// shutting down, out of resources, lock or serialization conflicts): the whole batch fails.
    /// Anything else (a constraint violation, bad data) fails only the unit that caused it.
    /// </summary>
    public static bool IsFatal(PostgresException exception) =>
        exception.SqlState.StartsWith("08", StringComparison.Ordinal)    // connection exception
        || exception.SqlState.StartsWith("40", StringComparison.Ordinal) // deadlock, serialization failure
        || exception.SqlState.StartsWith("53", StringComparison.Ordinal) // insufficient resources
        || exception.SqlState.StartsWith("57", StringComparison.Ordinal) // operator intervention (shutdown)
        || exception.SqlState.StartsWith("58", StringComparison.Ordinal) // system error
        || exception.SqlState.StartsWith("XX", StringComparison.Ordinal);
}
