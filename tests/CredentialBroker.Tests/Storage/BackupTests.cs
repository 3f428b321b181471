using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Hosting;
using Xares.Broker.Tests.Support;
using Xares.DevKit;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Storage;

public sealed class BackupTests
{
    [Fact]
    public async Task Backup_WhileLeasesAreIssued_RestoresEverythingCommittedAndTheChainVerifies()
    {
        var host = await BrokerTestHost.StartAsync();
        var dataDirectory = host.DataDirectory;
        var user = await host.CreateUserAsync("erin");
        await host.CreateGitCredentialAsync(user, "https://git.example.com/", "erin", "tok_backup_0000000000001");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();
        var before = await sidecar.GetAsync("https", "git.example.com");

        // Leases keep being issued while the backup runs: it must still be one consistent snapshot.
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await sidecar.GetAsync("https", "git.example.com");
            }
        });
        // The backup and the restored broker share one directory, removed at the end (it holds a master key).
        var restoredDirectory = Directory.CreateTempSubdirectory("xares-restored-").FullName;
        var backupFile = Path.Combine(restoredDirectory, "xares-backup.db");
        try
        {
            var (exit, output, error) = Run("backup", "--to", backupFile, "--data-dir", dataDirectory);
            await stop.CancelAsync();
            await load;
            Assert.True(exit == 0, error);
            Assert.Contains("Backup written", output, StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backupFile));
            Assert.NotEqual(0, Run("backup", "--to", backupFile, "--data-dir", dataDirectory).Exit); // never overwrites

            // Restore: a broker on the backup file with the same master key (same data dir) has it all.
            var keyFile = Path.Combine(dataDirectory, "master.key");
            var masterKey = await File.ReadAllTextAsync(keyFile);
            await host.DisposeAsync();
            await File.WriteAllTextAsync(Path.Combine(restoredDirectory, "master.key"), masterKey);
            File.SetUnixFileMode(Path.Combine(restoredDirectory, "master.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await File.WriteAllTextAsync(Path.Combine(restoredDirectory, "initial-admin-key"), host.AdminKey);
            await using var restored = await BrokerTestHost.StartAsync(o => o with { DataDirectory = restoredDirectory, Database = $"Data Source={backupFile}" });

            var verify = JsonDocument.Parse(await restored.Admin.GetStringAsync("/api/v1/audit/verify")).RootElement;
            Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
            var leases = JsonDocument.Parse(await restored.Admin.GetStringAsync($"/api/v1/leases?workspaceId={sidecar.WorkspaceId}")).RootElement;
            Assert.Contains(leases.GetProperty("items").EnumerateArray(), l => l.GetProperty("id").GetString() == before.Lease.LeaseId);
            var audit = JsonDocument.Parse(await restored.Admin.GetStringAsync("/api/v1/audit?action=lease.issue&limit=1000")).RootElement;
            Assert.Equal(leases.GetProperty("items").GetArrayLength(), audit.GetProperty("items").GetArrayLength());
            // The session survives too: the sidecar's token works against the restored broker.
            var again = await new SidecarBroker.SidecarBrokerClient(restored.GrpcChannel)
                .GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.com" }, sidecar.Auth);
            Assert.Equal("tok_backup_0000000000001", again.Lease.Secret);
        }
        finally
        {
            Directory.Delete(restoredDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task PgDumpAndRestore_AsTheReadmeSays_LosesNothingAndTheChainVerifies()
    {
        await using var source = await ContractDatabase.CreateAsync(new PostgresBackend(), migrate: false);
        var host = await BrokerTestHost.StartAsync(o => o with { DataDirectory = source.Directory, Database = source.ConnectionString });
        var user = await host.CreateUserAsync("frank");
        await host.CreateGitCredentialAsync(user, "https://git.example.com/", "frank", "tok_pgdump_0000000000001");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();
        var lease = await sidecar.GetAsync("https", "git.example.com");
        var dump = Path.Combine(source.Directory, "xares.dump");
        var target = await PostgresServer.CreateDatabaseAsync();
        try
        {
            await RunToolAsync("pg_dump", "--format=custom", $"--file={dump}", LibpqUri(source.ConnectionString));
            await host.DisposeAsync();
            await RunToolAsync("pg_restore", "--no-owner", $"--dbname={LibpqUri(target)}", dump);

            await using var restored = await BrokerTestHost.StartAsync(o => o with { DataDirectory = source.Directory, Database = target });
            var verify = JsonDocument.Parse(await restored.Admin.GetStringAsync("/api/v1/audit/verify")).RootElement;
            Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
            var leases = JsonDocument.Parse(await restored.Admin.GetStringAsync($"/api/v1/leases?workspaceId={sidecar.WorkspaceId}")).RootElement;
            Assert.Contains(leases.GetProperty("items").EnumerateArray(), l => l.GetProperty("id").GetString() == lease.Lease.LeaseId);
            var again = await new SidecarBroker.SidecarBrokerClient(restored.GrpcChannel)
                .GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.com" }, sidecar.Auth);
            Assert.Equal("tok_pgdump_0000000000001", again.Lease.Secret);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(target);
        }
    }

    private static string LibpqUri(string connectionString)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return $"postgresql://{b.Username}@{b.Host}:{b.Port}/{b.Database}";
    }

    private static async Task RunToolAsync(string tool, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(tool, args) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{tool} failed: {error}");
    }

    [Fact]
    public async Task Backup_OnPostgres_PointsAtPgDump()
    {
        await using var db = await ContractDatabase.CreateAsync(new PostgresBackend());
        var file = Path.Combine(db.Directory, "x.db");

        var (exit, _, error) = Run("backup", "--to", file, "--database", db.ConnectionString, "--data-dir", db.Directory);

        Assert.Equal(1, exit);
        Assert.Contains("pg_dump", error, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit;
        try
        {
            exit = BrokerCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (InvalidOperationException ex)
        {
            // What Program.cs turns into "xares: …" and exit code 1.
            error.Write(ex.Message);
            exit = 1;
        }
        return (exit, output.ToString(), error.ToString());
    }
}
