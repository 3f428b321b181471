using System.Security.Cryptography;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Xares.Broker.Docker;

/// <summary>How one hand-over ended; <see cref="Problem"/> is the exec's own message, never the token.</summary>
internal sealed record DeliveryResult(bool Delivered, string Problem);

/// <summary>
/// Hands a bootstrap token into a container's memory: a Docker exec of
/// `xares-sidecar bootstrap --require-tmpfs`, run as root, with the token written to its stdin. Never the
/// archive API (which writes under a tmpfs mount into the container's disk layer), never an
/// environment variable, label or argument, so `docker inspect` shows nothing secret.
/// </summary>
internal sealed class BootstrapDelivery(IDockerClient docker)
{
    public static readonly IReadOnlyList<string> Command = ["xares-sidecar", "bootstrap", "--require-tmpfs"];

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public async Task<DeliveryResult> DeliverAsync(string containerId, string token, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        var input = Encoding.ASCII.GetBytes(token + "\n");
        try
        {
            var exec = await docker.Exec.ExecCreateContainerAsync(containerId, new ContainerExecCreateParameters
            {
                AttachStdin = true,
                AttachStdout = true,
                AttachStderr = true,
                Tty = false,
                // Root, not the image's USER: a workspace user could trace its own process and read
                // the token off stdin. The sidecar accepts only the bootstrap message from root.
                User = "0",
                Cmd = [.. Command],
            }, deadline.Token);
            string output;
            using (var stream = await docker.Exec.StartAndAttachContainerExecAsync(exec.ID, false, deadline.Token))
            {
                await stream.WriteAsync(input, 0, input.Length, deadline.Token);
                stream.CloseWrite();
                var (stdout, stderr) = await stream.ReadOutputToEndAsync(deadline.Token);
                output = (stderr.Length > 0 ? stderr : stdout).Trim();
            }
            ContainerExecInspectResponse result;
            try
            {
                result = await docker.Exec.InspectContainerExecAsync(exec.ID, deadline.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                // The hand-over ran; only its exit code is unknown (seen once in the tests: a new
                // connection to the engine refused for a moment). Whether a session appears decides.
                return new DeliveryResult(true, "");
            }
            return result.ExitCode == 0
                ? new DeliveryResult(true, "")
                : new DeliveryResult(false, $"xares-sidecar bootstrap exited with {result.ExitCode}: {Redact(output, token)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryResult(false, $"xares-sidecar bootstrap did not finish within {Timeout.TotalSeconds:0} s");
        }
        catch (DockerApiException ex)
        {
            return new DeliveryResult(false, $"exec failed: {ex.StatusCode} {Redact(ex.ResponseBody ?? "", token)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The engine did not answer: a failed attempt (the bootstrapper tries once more), not a crash of the hand-over.
            return new DeliveryResult(false, $"the Docker engine did not answer: {Redact(ex.GetBaseException().Message, token)}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    /// <summary>A program's output as detail: one line, bounded, and never the token (in case something echoed it).</summary>
    private static string Redact(string text, string token)
    {
        var line = text.Replace(token, "[token]", StringComparison.Ordinal).ReplaceLineEndings(" ").Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }
}
