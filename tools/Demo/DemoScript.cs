using Xares.DevGitServer;
using Xares.DevKit;

namespace Xares.Demo;

/// <summary>
/// The narrated demo: eight steps that each show one thing Xares does (nine with --minted), then
/// a clean-up step that always runs. The first failing step ends the run (the demo exits non-zero).
/// </summary>
internal sealed partial class DemoScript(Narrator narrator, bool keep, bool minted) : IAsyncDisposable
{
    private const string GitUser = "alice";
    private const string RepositoryPath = "acme/app.git";

    private readonly ScratchDirectory directory = ScratchDirectory.Create("xd-");
    private readonly DateTime startedUtc = DateTime.UtcNow;

    private BrokerProcess? broker;
    private AdminClient? admin;
    private GitHttpServer? gitServer;
    private SidecarProcess? sidecar;
    private GitWorkspace? git;
    private string token = "";
    private string bootstrapToken = "";
    private string repositoryUrl = "";
    private string userId = "";
    private string credentialId = "";
    private string workspaceId = "";

    private BrokerProcess Broker => broker ?? throw new InvalidOperationException("The broker is not running.");

    private AdminClient Admin => admin ?? throw new InvalidOperationException("The broker is not running.");

    private GitHttpServer GitServer => gitServer ?? throw new InvalidOperationException("The git server is not running.");

    private SidecarProcess Sidecar => sidecar ?? throw new InvalidOperationException("The sidecar is not running.");

    private GitWorkspace Git => git ?? throw new InvalidOperationException("The workspace shell is not set up.");

    private int TotalSteps => minted ? 10 : 9;

    /// <summary>Runs every step; true when all of them succeeded.</summary>
    public async Task<bool> RunAsync(CancellationToken interrupted)
    {
        directory.Keep = keep;
        narrator.Banner(
            "Xares demo: short-lived, audited git credentials for a dev workspace",
            $"Everything runs on this machine, on loopback, under {directory.Path}.\n" +
            "Secrets appear only as their prefix (xar_…, xbt_…, xdemo_…), never in full.");

        List<(string Title, Func<Task> Body)> steps =
        [
            ("Start the broker (SQLite in a temporary data dir, loopback only)", StartBrokerAsync),
            ("Start a git server that demands a token", StartGitServerAsync),
            ("Give the token to Xares: a user and a git credential, through REST", StoreCredentialAsync),
            ("Register a workspace and start its sidecar", StartWorkspaceAsync),
            ("Use git in the workspace: install, clone, commit, push", UseGitAsync),
            ("Read the audit trail and verify its HMAC chain", ShowAuditAsync),
            ("Revoke: delete the credential and watch git lose access", RevokeAsync),
            ("Look for the token on the workspace's disk", ScanForTokenAsync),
        ];
        if (minted)
        {
            steps.Add(("Minted: a GitHub App token expires and is replaced (--minted)", MintedTokenAsync));
        }

        var failedStep = 0;
        for (var i = 0; i < steps.Count && failedStep == 0; i++)
        {
            if (!await RunStepAsync(i + 1, steps[i].Title, steps[i].Body, interrupted))
            {
                failedStep = i + 1;
            }
        }

        var cleanedUp = await RunStepAsync(TotalSteps, keep ? "Stop everything (files kept: --keep)" : "Stop everything and clean up", StopAsync, CancellationToken.None);

        narrator.Line("");
        if (failedStep != 0)
        {
            narrator.Line($"Demo FAILED at step {failedStep} of {TotalSteps}.");
        }
        else if (!cleanedUp)
        {
            narrator.Line("Demo steps passed, but clean-up failed.");
        }
        else
        {
            narrator.Line($"Demo complete: all {TotalSteps} steps passed.");
        }

        return failedStep == 0 && cleanedUp;
    }

    private async Task<bool> RunStepAsync(int number, string title, Func<Task> body, CancellationToken interrupted)
    {
        narrator.Heading(number, TotalSteps, title);
        try
        {
            await body().WaitAsync(interrupted);
            return true;
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            narrator.Fail("interrupted");
            return false;
        }
        catch (Exception e)
        {
            narrator.Fail($"step {number} failed: {e.Message}");
            foreach (var tail in new[] { broker?.LogTail(), sidecar?.LogTail(), mintedSidecar?.LogTail() }.OfType<string>())
            {
                narrator.Output(tail);
            }

            return false;
        }
    }

    private async Task StopAsync()
    {
        await StopMintedAsync();
        if (sidecar is not null)
        {
            await sidecar.DisposeAsync();
            sidecar = null;
            narrator.Ok("sidecar stopped (its cached leases were only ever in its memory)");
        }

        admin?.Dispose();
        admin = null;
        if (broker is not null)
        {
            await broker.DisposeAsync();
            broker = null;
            narrator.Ok("broker stopped");
        }

        if (gitServer is not null)
        {
            await gitServer.DisposeAsync();
            gitServer = null;
            narrator.Ok("git server stopped");
        }

        directory.Dispose();
        narrator.Ok(keep
            ? $"kept {directory.Path} (process logs in {directory.Logs})"
            : $"removed {directory.Path}");
    }

    public async ValueTask DisposeAsync()
    {
        // Normally StopAsync already ran; this covers an exception escaping RunAsync.
        await StopMintedAsync();
        if (sidecar is not null)
        {
            await sidecar.DisposeAsync();
        }

        admin?.Dispose();
        if (broker is not null)
        {
            await broker.DisposeAsync();
        }

        if (gitServer is not null)
        {
            await gitServer.DisposeAsync();
        }

        directory.Dispose();
    }
}
