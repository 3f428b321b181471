using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Xares.Broker.Storage.Postgres;

namespace Xares.Broker.Storage;

/// <summary>Small helpers for explicit, parameterised SQL.</summary>
internal static class Sql
{
    // Commands are kept per connection and reused, so a statement is prepared once per connection
    // rather than on every execution; re-preparing dominated the single writer's time per lease.
    private static readonly ConditionalWeakTable<DbConnection, Dictionary<string, DbCommand>> Prepared = new();

    /// <summary>A new command the caller owns (and disposes), for statements run once, such as a long read.</summary>
    public static DbCommand Command(DbConnection connection, string sql, DbTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        Bind(command, transaction, parameters);
        return command;
    }

    /// <summary>The connection's cached command for <paramref name="sql"/>, bound to these parameters. Not to be disposed by the caller.</summary>
    private static DbCommand Prepare(DbConnection connection, string sql, DbTransaction? transaction, (string Name, object? Value)[] parameters)
    {
        var commands = Prepared.GetOrCreateValue(connection);
        if (commands.TryGetValue(sql, out var command) && SameNames(command.Parameters, parameters))
        {
            // New values go into the parameter objects the command already holds: once Npgsql has
            // prepared a command it binds the parameters it parsed it with, so replacing them
            // (Clear + Add) would silently run the statement with the previous values.
            command.Transaction = transaction;
            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
            }
            return command;
        }
        command?.Dispose();
        command = connection.CreateCommand();
        command.CommandText = sql;
        Bind(command, transaction, parameters);
        commands[sql] = command;
        return command;
    }

    private static bool SameNames(DbParameterCollection existing, (string Name, object? Value)[] parameters)
    {
        if (existing.Count != parameters.Length)
        {
            return false;
        }
        for (var i = 0; i < parameters.Length; i++)
        {
            if (existing[i].ParameterName != parameters[i].Name)
            {
                return false;
            }
        }
        return true;
    }

    private static void Bind(DbCommand command, DbTransaction? transaction, (string Name, object? Value)[] parameters)
    {
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
    }

    public static int Execute(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        if (PendingWrites.With(connection, transaction, sql, parameters) is { } batch)
        {
            using (batch)
            {
                return PendingWrites.Run(batch, async b =>
                {
                    await b.ExecuteNonQueryAsync();
                    return b.BatchCommands[^1].RecordsAffected;
                });
            }
        }
        return Prepare(connection, sql, transaction, parameters).ExecuteNonQuery();
    }

    /// <summary>
    /// A write whose row count nobody needs: inside a PostgreSQL write batch it is held back and sent
    /// with the next statement (see <see cref="PendingWrites"/>); elsewhere it runs at once.
    /// </summary>
    public static void Write(DbConnection connection, DbTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        if (!PendingWrites.TryDefer(connection, sql, parameters))
        {
            Execute(connection, transaction, sql, parameters);
        }
    }

    /// <summary>
    /// A write that later ones of the same <paramref name="foldKey"/> fold into inside a PostgreSQL
    /// write batch (see <see cref="PendingWrites.TryDeferFolded"/>): one statement per batch for a
    /// counter or a chain head instead of one per change. Elsewhere it runs at once.
    /// </summary>
    public static void WriteFolded(DbConnection connection, DbTransaction transaction, string foldKey, IReadOnlyCollection<string> summed, string sql,
        params (string Name, object? Value)[] parameters)
    {
        if (!PendingWrites.TryDeferFolded(connection, foldKey, sql, parameters, summed))
        {
            Execute(connection, transaction, sql, parameters);
        }
    }

    /// <summary>
    /// A conditional write that must change a row to count. Inside a PostgreSQL write batch it is
    /// held back like <see cref="Write"/> and true is returned at once; should it change nothing
    /// once sent, <paramref name="onStale"/> runs and the batch runs again. Elsewhere it runs at
    /// once and returns whether it changed a row.
    /// </summary>
    public static bool WriteIfCurrent(DbConnection connection, DbTransaction transaction, string sql, Action onStale,
        params (string Name, object? Value)[] parameters) =>
        PendingWrites.TryDeferConditional(connection, sql, parameters, onStale) || Execute(connection, transaction, sql, parameters) > 0;

    public static object? Scalar(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var reader = Reader(connection, transaction, sql, parameters, CommandBehavior.SingleResult);
        var value = reader.Read() ? reader.GetValue(0) : null;
        return value is DBNull ? null : value;
    }

    public static List<T> Query<T>(DbConnection connection, DbTransaction? transaction, string sql, Func<DbDataReader, T> map, params (string Name, object? Value)[] parameters)
    {
        using var reader = Reader(connection, transaction, sql, parameters, CommandBehavior.Default);
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }
        return rows;
    }

    /// <summary>
    /// <see cref="Query{T}"/> over an IN list: <paramref name="sql"/> gets the placeholders of up to
    /// 200 distinct <paramref name="values"/> at a time (few statement shapes to prepare, however
    /// many values), and the rows of every run come back together.
    /// </summary>
    public static List<T> QueryIn<T>(DbConnection connection, DbTransaction? transaction, IEnumerable<string> values, Func<string, string> sql,
        Func<DbDataReader, T> map, params (string Name, object? Value)[] parameters)
    {
        var rows = new List<T>();
        foreach (var chunk in values.Distinct(StringComparer.Ordinal).Chunk(200))
        {
            var names = string.Join(", ", chunk.Select((_, i) => $"@in{i}"));
            rows.AddRange(Query(connection, transaction, sql(names), map, [.. parameters, .. chunk.Select((value, i) => ($"@in{i}", (object?)value))]));
        }
        return rows;
    }

    public static T? Single<T>(DbConnection connection, DbTransaction? transaction, string sql, Func<DbDataReader, T> map, params (string Name, object? Value)[] parameters)
        where T : class
    {
        using var reader = Reader(connection, transaction, sql, parameters, CommandBehavior.SingleRow);
        return reader.Read() ? map(reader) : null;
    }

    // With writes pending, they go first in the same round trip; their statements return no rows, so
    // the reader starts at this statement's rows.
    private static DbDataReader Reader(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters,
        CommandBehavior behavior) =>
        PendingWrites.With(connection, transaction, sql, parameters) is { } batch
            ? PendingWrites.Run<DbDataReader>(batch, async b => await b.ExecuteReaderAsync())
            : Prepare(connection, sql, transaction, parameters).ExecuteReader(behavior);

    public static string? NullableString(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? NullableInt64(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static DateTimeOffset? NullableTime(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static DateTimeOffset Time(this DbDataReader reader, int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static long ToDb(this DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static long? ToDb(this DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();
}
