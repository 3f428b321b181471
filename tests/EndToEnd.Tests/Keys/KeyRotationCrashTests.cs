using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.Protos.Broker.V1;

namespace Xares.EndToEnd.Tests.Keys;

/// <summary>
/// The published `xares-broker keys rotate`, killed with SIGKILL at each phase while a serving
/// broker keeps creating and updating credentials, then run again to completion: every secret
/// still opens, no row uses an old version, and the audit chain verifies. Also: a second
/// concurrent key operation refuses, naming the holder; and after a rekey (one transaction, so it
/// has no phases to crash between) the restarted broker opens the secrets sampled and the chain verifies.
/// </summary>
public sealed partial class KeyRotationCrashTests : IAsyncLifetime
{
    private const int Seeded = 2000;
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(60);

    private readonly ScratchDirectory directory = ScratchDirectory.Create("xk-");
    private readonly ConcurrentDictionary<string, string> secretByHost = new(StringComparer.Ordinal);
    private readonly string[] idBySeed = new string[Seeded];
    private BrokerProcess broker = null!;
    private AdminClient admin = null!;
    private string userId = "";
    private int run;

    [Fact]
    public async Task Rotate_KilledAtEachPhaseWhileBrokerWrites_ResumesAndLosesNothing()
    {
        using var stopWriting = new CancellationTokenSource();
        var writer = WriteContinuouslyAsync(stopWriting.Token);

        // Phase 1: killed right after committing version 2, before any re-wrap.
        // 10 batches of 200, a second apart: ample time to act mid re-wrap.
        var first = StartRotation(1000);
        await WaitForOutputAsync(first, "committed and current");
        await first.Process.KillAsync();
        Assert.Contains("The rotation to version 2 is unfinished", (await KeysAsync("status")).Stdout);
        // The dead holder's lock is still there: a rerun names it and refuses, until it goes stale.
        var refused = await KeysAsync("rotate");
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith($"xares: Another key operation is running: keys rotate (pid {first.Process.Id} on ", refused.Stderr);
        Assert.DoesNotContain("   at ", refused.Stderr); // a message, not a stack trace
        await WaitForLockReleaseAsync();

        // Phase 2: killed mid re-wrap; meanwhile a concurrent rotation and a prune refuse, naming it.
        var second = StartRotation(1000);
        Assert.Contains("Resuming the unfinished rotation to key-encryption key version 2", await WaitForOutputAsync(second, "Resuming"));
        var progress = await WaitForOutputAsync(second, ProgressLine());
        var done = long.Parse(ProgressLine().Match(progress).Groups["done"].Value);
        Assert.InRange(done, 1, Seeded - 1);
        foreach (var command in new[] { "rotate", "prune" })
        {
            var concurrent = await KeysAsync(command);
            Assert.Equal(1, concurrent.ExitCode);
            Assert.Contains($"Another key operation is running: keys rotate (pid {second.Process.Id}", concurrent.Stderr);
        }
        await second.Process.KillAsync();
        await WaitForLockReleaseAsync();

        var third = await KeysAsync("rotate");
        Assert.True(third.Succeeded, third.ToString());
        Assert.Contains("Resuming the unfinished rotation to key-encryption key version 2", third.Stdout);
        Assert.Contains("Rotation complete: version 2 current", third.Stdout);

        // Phase 3: a new rotation, killed in its final pass (waiting for brokers to see version 3).
        // Re-wrapping faster than the final pass's wait (7 s after the version's commit) leaves a window there.
        var fourth = StartRotation(0);
        await WaitForOutputAsync(fourth, "Final pass: waiting");
        await fourth.Process.KillAsync();
        Assert.Contains("The rotation to version 3 is unfinished", (await KeysAsync("status")).Stdout);
        await WaitForLockReleaseAsync();
        var fifth = await KeysAsync("rotate");
        Assert.True(fifth.Succeeded, fifth.ToString());
        Assert.Contains("Rotation complete: version 3 current", fifth.Stdout);

        await stopWriting.CancelAsync();
        var written = await writer;
        Assert.True(written > 0, "The broker wrote nothing while the rotations ran.");

        await AssertNothingLostAsync();
        await RekeyAndRestartAsync();
    }

    /// <summary>`keys rekey` to a new master key; the broker restarted with it opens every secret and the chain still verifies.</summary>
    private async Task RekeyAndRestartAsync()
    {
        var newKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var environment = CliEnvironment();
        environment["XARES_NEW_MASTER_KEY"] = newKey;
        var rekey = await ProcessRunner.RunAsync(Dotnet, [Artifacts.BrokerDll, "keys", "rekey", "--data-dir", broker.DataDirectory], environment,
            Path.Combine(directory.Logs, "keys-commands.log"));
        Assert.True(rekey.Succeeded, rekey.ToString());

        // The development key file is where this broker reads its master key from.
        await File.WriteAllTextAsync(Path.Combine(broker.DataDirectory, "master.key"), newKey + "\n");
        await broker.RestartAsync();

        var verify = await KeysAsync("verify", "audit");
        Assert.True(verify.Succeeded, verify.ToString());
        var grant = await admin.CreateWorkspaceAsync(userId, "rekey-check");
        using var channel = GrpcChannel.ForAddress(broker.GrpcUrl);
        var client = new SidecarBroker.SidecarBrokerClient(channel);
        var session = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = grant.BootstrapToken });
        var auth = new Metadata { { "authorization", "Bearer " + session.SessionToken } };
        foreach (var (host, secret) in secretByHost.OrderBy(e => e.Key, StringComparer.Ordinal).Where((_, i) => i % 50 == 0))
        {
            Assert.Equal(secret, (await LeaseAsync(client, auth, host, CancellationToken.None)).Lease.Secret);
            // Not in the database, the key commands' output or any log (invariant 1).
            Assert.Empty(SecretScanner.FindFilesContaining(secret, [directory.Path]));
        }
    }

    /// <summary>No row under an old version, every secret (seeded, updated, created meanwhile) leased intact, the chain whole.</summary>
    private async Task AssertNothingLostAsync()
    {
        var status = (await KeysAsync("status")).Stdout;
        Assert.Contains("version 1: 0 credentials", status);
        Assert.Contains("version 2: 0 credentials", status);
        Assert.Contains($"version 3: {secretByHost.Count} credentials", status);
        Assert.DoesNotContain("unfinished", status);

        var grant = await admin.CreateWorkspaceAsync(userId, "rotation-check");
        using var channel = GrpcChannel.ForAddress(broker.GrpcUrl);
        var client = new SidecarBroker.SidecarBrokerClient(channel);
        var session = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = grant.BootstrapToken });
        var auth = new Metadata { { "authorization", "Bearer " + session.SessionToken } };
        var wrong = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(secretByHost, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (entry, ct) =>
        {
            var reply = await LeaseAsync(client, auth, entry.Key, ct);
            if (reply.ResultCase != GitCredentialReply.ResultOneofCase.Lease || reply.Lease.Secret != entry.Value)
            {
                wrong.Add(entry.Key);
            }
        });
        Assert.True(wrong.IsEmpty, $"{wrong.Count} credentials did not lease their latest secret, e.g. {wrong.FirstOrDefault()}");

        var verify = await KeysAsync("verify", "audit");
        Assert.True(verify.Succeeded, verify.ToString());
        Assert.True((await admin.VerifyAuditAsync()).GetProperty("ok").GetBoolean());
        // Versions 1 and 2 protect no credential, but audit records made under them need them.
        Assert.Contains("Nothing to prune", (await KeysAsync("prune")).Stdout);
    }

    // A session's calls are rate-limited: wait and retry rather than fail.
    private static async Task<GitCredentialReply> LeaseAsync(SidecarBroker.SidecarBrokerClient client, Metadata auth, string host, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return await client.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = host }, auth, cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                await Task.Delay(200, ct);
            }
        }
    }

    // Creates new credentials and replaces secrets of seeded ones until stopped; returns how many writes.
    private async Task<int> WriteContinuouslyAsync(CancellationToken stop)
    {
        var writes = 0;
        var random = new Random(6);
        while (!stop.IsCancellationRequested)
        {
            var secret = NewSecret();
            if (writes % 2 == 0)
            {
                var host = $"new{writes}.example.test";
                await admin.CreateGitCredentialAsync(userId, $"https://{host}", "alice", secret);
                secretByHost[host] = secret;
            }
            else
            {
                var seed = random.Next(Seeded);
                var id = idBySeed[seed];
                await admin.SendAsync(HttpMethod.Patch, $"api/v1/credentials/{id}", new { secret });
                secretByHost[$"seed{seed}.example.test"] = secret;
            }
            writes++;
            await Task.Delay(100, CancellationToken.None);
        }
        return writes;
    }

    private static string NewSecret() => "tok_rot_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));

    private sealed record Rotation(BackgroundProcess Process, string Log);

    /// <summary>`keys rotate` in the background, each re-wrap batch slowed (test-only knob) so a kill lands mid-way.</summary>
    private Rotation StartRotation(int batchDelayMilliseconds)
    {
        var log = Path.Combine(directory.Logs, $"rotate-{++run}.log");
        var environment = CliEnvironment();
        environment["XARES_TEST_KEYS_BATCH_DELAY_MS"] = batchDelayMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Rotation(BackgroundProcess.Start(Dotnet, [Artifacts.BrokerDll, "keys", "rotate", "--data-dir", broker.DataDirectory], environment, log), log);
    }

    private static async Task<string> WaitForOutputAsync(Rotation rotation, string marker) =>
        await WaitForOutputAsync(rotation, new Regex(Regex.Escape(marker)));

    private static async Task<string> WaitForOutputAsync(Rotation rotation, Regex marker)
    {
        string? line = null;
        var seen = await Poll.UntilAsync(() =>
        {
            using var stream = new FileStream(rotation.Log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            line = new StreamReader(stream).ReadToEnd().Split('\n').FirstOrDefault(marker.IsMatch);
            return Task.FromResult(line is not null || rotation.Process.HasExited);
        }, PhaseTimeout, TimeSpan.FromMilliseconds(20));
        Assert.True(seen && line is not null, $"`keys rotate` never printed {marker}.\n{rotation.Process.LogTail()}");
        return line;
    }

    [GeneratedRegex(@"\] (?<done>\d+)/(?<total>\d+) data keys re-wrapped \(\d+%\), \d+ per second")]
    private static partial Regex ProgressLine();

    // A killed holder's lock lapses once its heartbeat is 15 s old.
    private async Task WaitForLockReleaseAsync()
    {
        var released = await Poll.UntilAsync(async () => !(await KeysAsync("status")).Stdout.Contains("Running now:", StringComparison.Ordinal),
            TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(1));
        Assert.True(released, "The key maintenance lock of a killed rotation never went stale.");
    }

    private Task<CommandResult> KeysAsync(string command, string group = "keys") =>
        ProcessRunner.RunAsync(Dotnet, [Artifacts.BrokerDll, group, command, "--data-dir", broker.DataDirectory], CliEnvironment(),
            Path.Combine(directory.Logs, "keys-commands.log"), timeout: TimeSpan.FromSeconds(90));

    private Dictionary<string, string> CliEnvironment() => ProcessRunner.BaseEnvironment(directory.Sub("cli-home"));

    private static string Dotnet => System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    public async Task InitializeAsync()
    {
        broker = await BrokerProcess.StartAsync(directory);
        admin = broker.CreateAdminClient();
        userId = await admin.CreateUserAsync("rotation-owner");
        await Parallel.ForEachAsync(Enumerable.Range(0, Seeded), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var secret = NewSecret();
            idBySeed[i] = AdminClient.IdOf(await admin.CreateGitCredentialAsync(userId, $"https://seed{i}.example.test", "alice", secret));
            secretByHost[$"seed{i}.example.test"] = secret;
        });
    }

    public async Task DisposeAsync()
    {
        admin.Dispose();
        await broker.DisposeAsync();
        directory.Dispose();
    }
}
