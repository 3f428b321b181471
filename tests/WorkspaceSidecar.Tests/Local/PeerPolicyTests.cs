using System.Net.Sockets;
using Xares.Sidecar.Local;
using Xares.Sidecar.Native;

namespace Xares.Sidecar.Tests.Local;

public sealed class PeerPolicyTests
{
    private readonly PeerPolicy _policy = new(ownUid: 1000, allowedUids: [1001]);

    [Theory]
    [InlineData(42, 1000u, "Allowed")]
    [InlineData(42, 1001u, "Allowed")]
    [InlineData(42, 1002u, "RefusedUid")]
    [InlineData(42, 0u, "BootstrapOnly")]
    [InlineData(0, 1000u, "RefusedForeignPidNamespace")]
    [InlineData(0, 0u, "RefusedForeignPidNamespace")]
    public void Decide_FakeUcred_AllowsOwnAndListedUidsAndRootOnlyToBootstrapFromThisPidNamespace(int pid, uint uid, string expected)
    {
        Assert.Equal(Enum.Parse<PeerDecision>(expected), _policy.Decide(new PeerCredentials(pid, uid, 100)));
    }

    [Fact]
    public void Decide_RootListedOrOwn_KeepsFullAccess()
    {
        Assert.Equal(PeerDecision.Allowed, new PeerPolicy(ownUid: 1000, allowedUids: [0]).Decide(new PeerCredentials(42, 0, 0)));
        Assert.Equal(PeerDecision.Allowed, new PeerPolicy(ownUid: 0, allowedUids: []).Decide(new PeerCredentials(42, 0, 0)));
    }

    [Theory]
    [InlineData(1000u, true)]
    [InlineData(0u, true)]
    [InlineData(1001u, false)]
    public void MayBootstrap_OnlyOwnUidOrRoot(uint uid, bool expected)
    {
        Assert.Equal(expected, _policy.MayBootstrap(new PeerCredentials(42, uid, 100)));
    }

    [Fact]
    public async Task Of_RealSocketPair_ReportsThisProcess()
    {
        var directory = Directory.CreateTempSubdirectory("xares-peer-");
        try
        {
            var path = Path.Combine(directory.FullName, "s.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen();
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
            using var accepted = await listener.AcceptAsync();

            var peer = PeerCredentials.Of(accepted);

            Assert.Equal(Environment.ProcessId, peer.Pid);
            Assert.Equal(FileOwnership.CurrentUid, peer.Uid);
            Assert.Equal(PeerDecision.Allowed, new PeerPolicy(FileOwnership.CurrentUid, []).Decide(peer));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
