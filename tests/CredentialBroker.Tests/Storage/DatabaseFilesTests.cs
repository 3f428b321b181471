using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.CommandLine;
using Microsoft.Data.Sqlite;
using Xares.Broker.Hosting;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Storage;

/// <summary>File modes of the data directory, the database and the key file under the common umask 022, and a failed start writing nothing.</summary>
[Collection(UmaskCollection.Name)]
public sealed class DatabaseFilesTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = Private | UnixFileMode.UserExecute;

    [Fact]
    public async Task Serve_Umask022_DataDirectory0700AndDatabaseWalAndKeyFiles0600()
    {
        var parent = Directory.CreateTempSubdirectory("xares-modes-").FullName;
        var dataDirectory = Path.Combine(parent, "data");
        try
        {
            using (Umask.Set(0b000_010_010))
            {
                await using var host = await BrokerTestHost.StartAsync(o => o with { DataDirectory = dataDirectory });
                await host.CreateUserAsync(); // a write, so the -wal file exists

                Assert.Equal(PrivateDirectory, File.GetUnixFileMode(dataDirectory));
                Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(dataDirectory, "xares.db")));
                Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(dataDirectory, "xares.db-wal")));
                Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(dataDirectory, "initial-admin-key")));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(parent, recursive: true);
        }
    }

    [Fact]
    public void Migrate_Umask022_DatabaseCreated0600()
    {
        var parent = Directory.CreateTempSubdirectory("xares-modes-").FullName;
        var dataDirectory = Path.Combine(parent, "data");
        try
        {
            using (Umask.Set(0b000_010_010))
            {
                var exit = BrokerCommandLine.Create().Parse(["migrate", "--data-dir", dataDirectory])
                    .Invoke(new InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null });

                Assert.Equal(0, exit);
                Assert.Equal(PrivateDirectory, File.GetUnixFileMode(dataDirectory));
                Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(dataDirectory, "xares.db")));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(parent, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_PortInUse_WritesNoInitialAdminKeyAndNextStartDoes()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("xares-port-").FullName;
        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var busyUrl = $"http://127.0.0.1:{((IPEndPoint)occupied.LocalEndpoint).Port}";
        try
        {
            var options = new BrokerOptions { DataDirectory = dataDirectory, RestUrl = busyUrl, GrpcUrl = "http://127.0.0.1:0" };
            await using (var failing = BrokerHost.Build(options))
            {
                await Assert.ThrowsAsync<IOException>(() => failing.StartAsync());
            }
            Assert.False(File.Exists(options.InitialAdminKeyPath));

            // The failed start minted no key, so the next one still writes the file.
            await using var started = BrokerHost.Build(options with { RestUrl = "http://127.0.0.1:0" });
            await started.StartAsync();
            Assert.StartsWith("xar_", await File.ReadAllTextAsync(options.InitialAdminKeyPath), StringComparison.Ordinal);
            await started.StopAsync();
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static class Umask
    {
        public static IDisposable Set(uint mask)
        {
            var previous = umask(mask);
            return new Restore(previous);
        }

        // A plain DllImport: the test project does not allow the unsafe code LibraryImport generates.
        [DllImport("libc", EntryPoint = "umask")]
        private static extern uint umask(uint mask);

        private sealed class Restore(uint previous) : IDisposable
        {
            public void Dispose() => _ = umask(previous);
        }
    }
}

/// <summary>The umask is process-wide: tests that set it do not run alongside each other.</summary>
[CollectionDefinition(Name)]
public sealed class UmaskCollection
{
    public const string Name = "umask";
}
