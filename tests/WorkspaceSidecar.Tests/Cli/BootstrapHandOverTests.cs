using Xares.Sidecar.Native;
using Xares.Sidecar.Tests;

namespace Xares.Sidecar.Tests.Cli;

/// <summary>`xares-sidecar bootstrap` as the broker's Docker watcher runs it: tmpfs only, and the token-file fallback.</summary>
public sealed class BootstrapHandOverTests : IDisposable
{
    private const string Token = "xbt_0123456789abcdef0123456789abcdef0123456789abcdef";
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly string _memory = Directory.CreateDirectory($"/dev/shm/xbt-{Guid.NewGuid():N}", Private).FullName;
    private readonly string _disk = Directory.CreateTempSubdirectory("xbt-").FullName;

    public void Dispose()
    {
        Directory.Delete(_memory, recursive: true);
        Directory.Delete(_disk, recursive: true);
    }

    [Fact]
    public void MemoryFileSystem_DevShmAndTmp_TellsTmpfsFromDisk()
    {
        Assert.True(MemoryFileSystem.Contains(_memory));
    }

    [Fact]
    public async Task Bootstrap_NoSidecarListening_LeavesToken0400InTmpfs()
    {
        var file = Path.Combine(_memory, "bootstrap-token");

        var (exit, output, error) = await CliRunner.RunAsync(
            ["bootstrap", "--require-tmpfs", "--socket", Path.Combine(_memory, "sidecar.sock"), "--bootstrap-token-file", file], Token + "\n");

        Assert.True(exit == 0, error);
        Assert.Contains("left in", output, StringComparison.Ordinal);
        Assert.Equal(Token, File.ReadAllText(file).Trim());
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task Bootstrap_RequireTmpfs_SocketFolderOnDisk_Refuses()
    {
        if (MemoryFileSystem.Contains(_disk))
        {
            return; // /tmp is a tmpfs on this machine: nothing on disk to refuse.
        }

        var (exit, _, error) = await CliRunner.RunAsync(
            ["bootstrap", "--require-tmpfs", "--socket", Path.Combine(_disk, "sidecar.sock"), "--bootstrap-token-file", Path.Combine(_memory, "t")], Token + "\n");

        Assert.Equal(1, exit);
        Assert.Contains("is not a tmpfs", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_memory, "t")));
    }

    [Fact]
    public async Task Bootstrap_NoSidecarListening_TokenFileOnDisk_Refuses()
    {
        if (MemoryFileSystem.Contains(_disk))
        {
            return;
        }
        var file = Path.Combine(_disk, "bootstrap-token");
        File.SetUnixFileMode(_disk, Private);

        var (exit, _, error) = await CliRunner.RunAsync(
            ["bootstrap", "--socket", Path.Combine(_disk, "sidecar.sock"), "--bootstrap-token-file", file], Token + "\n");

        Assert.Equal(1, exit);
        Assert.Contains("is not a tmpfs", error, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }
}
