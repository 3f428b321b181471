using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// A connection that counts the statements run through it and hands everything else to the real
/// one, so a storage test can pin how many round trips a store method costs on either backend.
/// </summary>
[SuppressMessage("Security", "CA2100", Justification = "A pass-through: the stores build the SQL, parameterised.")]
internal sealed class CountingConnection(DbConnection inner) : DbConnection
{
    private readonly List<string> _statements = [];

    /// <summary>The text of every statement executed, in order.</summary>
    public IReadOnlyList<string> Statements => _statements;

    [AllowNull]
    public override string ConnectionString { get => inner.ConnectionString; set => inner.ConnectionString = value; }

    public override string Database => inner.Database;

    public override string DataSource => inner.DataSource;

    public override string ServerVersion => inner.ServerVersion;

    public override ConnectionState State => inner.State;

    public override void ChangeDatabase(string databaseName) => inner.ChangeDatabase(databaseName);

    public override void Close() => inner.Close();

    public override void Open() => inner.Open();

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => inner.BeginTransaction(isolationLevel);

    protected override DbCommand CreateDbCommand() => new CountingCommand(inner.CreateCommand(), this);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class CountingCommand(DbCommand command, CountingConnection connection) : DbCommand
    {
        [AllowNull]
        public override string CommandText { get => command.CommandText; set => command.CommandText = value; }

        public override int CommandTimeout { get => command.CommandTimeout; set => command.CommandTimeout = value; }

        public override CommandType CommandType { get => command.CommandType; set => command.CommandType = value; }

        public override bool DesignTimeVisible { get => command.DesignTimeVisible; set => command.DesignTimeVisible = value; }

        public override UpdateRowSource UpdatedRowSource { get => command.UpdatedRowSource; set => command.UpdatedRowSource = value; }

        protected override DbConnection? DbConnection { get => connection; set => throw new NotSupportedException(); }

        protected override DbParameterCollection DbParameterCollection => command.Parameters;

        protected override DbTransaction? DbTransaction { get => command.Transaction; set => command.Transaction = value; }

        public override void Cancel() => command.Cancel();

        public override int ExecuteNonQuery() => Counted().ExecuteNonQuery();

        public override object? ExecuteScalar() => Counted().ExecuteScalar();

        public override void Prepare() => command.Prepare();

        protected override DbParameter CreateDbParameter() => command.CreateParameter();

        protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => Counted().ExecuteReader(behavior);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                command.Dispose();
            }
            base.Dispose(disposing);
        }

        private DbCommand Counted()
        {
            connection._statements.Add(command.CommandText);
            return command;
        }
    }
}
