using System.Security.Cryptography;
using Xares.Bench.FleetLoad.Sidecars;
using Xares.DevKit;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// The one git credential every workspace of the run shares (all workspaces belong to one user):
/// deleting it is one revocation that concerns every sidecar at once.
/// </summary>
internal static class FleetCredential
{
    public const string Host = "git.bench.test";

    public static async Task<string> CreateAsync(AdminClient admin, string userId) =>
        AdminClient.IdOf(await admin.CreateGitCredentialAsync(userId, $"https://{Host}", "bench",
            "bench-secret-not-real-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))));

    /// <summary><paramref name="count"/> workspaces of the user, <paramref name="parallelism"/> REST calls at a time; their sidecars go to the brokers in turn.</summary>
    public static async Task<SidecarGrant[]> CreateWorkspacesAsync(AdminClient admin, string userId, int first, int count, IReadOnlyList<Uri> brokers, int parallelism = 8)
    {
        var grants = new SidecarGrant[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, _) =>
        {
            var workspace = await admin.CreateWorkspaceAsync(userId, $"fleet-{first + i}");
            grants[i] = new SidecarGrant(brokers[(first + i) % brokers.Count], workspace.BootstrapToken);
        });
        return grants;
    }
}
