using System.Text;
using Microsoft.Data.Sqlite;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Sidecars;

/// <summary>Invariant 5: API keys, bootstrap tokens and session tokens are stored only as hashes.</summary>
public sealed class TokensAtRestTests
{
    [Fact]
    public async Task Database_AfterIssuingEveryKindOfToken_HoldsNoneOfThemInPlaintext()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();
        var refreshed = await sidecar.RefreshAsync();

        SqliteConnection.ClearAllPools();
        var bytes = Directory.GetFiles(host.DataDirectory, "xares.db*").SelectMany(File.ReadAllBytes).ToArray();
        foreach (var token in new[] { host.AdminKey, sidecar.BootstrapToken, refreshed.SessionToken })
        {
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(token)) < 0, $"{token[..4]}… token found in the database files");
        }
        Assert.StartsWith("xar_", host.AdminKey, StringComparison.Ordinal);
        Assert.StartsWith("xbt_", sidecar.BootstrapToken, StringComparison.Ordinal);
        Assert.StartsWith("xst_", refreshed.SessionToken, StringComparison.Ordinal);
    }
}
