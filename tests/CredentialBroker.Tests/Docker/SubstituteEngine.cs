using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Net.Http.Client;
using NSubstitute;

namespace Xares.Broker.Tests.Docker;

/// <summary>Set-ups for a substituted Docker engine (IDockerClient) that the broker's watcher and bootstrapper talk to.</summary>
internal static class SubstituteEngine
{
    /// <summary>No event ever arrives; listing containers answers <paramref name="containers"/> (none when null).</summary>
    public static IDockerClient Quiet(Func<IList<ContainerListResponse>>? containers = null)
    {
        var docker = Substitute.For<IDockerClient>();
        docker.System.MonitorEventsAsync(Arg.Any<ContainerEventsParameters>(), Arg.Any<IProgress<Message>>(), Arg.Any<CancellationToken>())
            .Returns(call => Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>()));
        docker.Containers.ListContainersAsync(Arg.Any<ContainersListParameters>(), Arg.Any<CancellationToken>())
            .Returns(_ => containers?.Invoke() ?? new List<ContainerListResponse>());
        return docker;
    }

    /// <summary>
    /// Every exec is created and attached to a fresh <see cref="RecordingStream"/>, added to
    /// <paramref name="execs"/>. With <paramref name="onDelivered"/>, inspecting an exec hands it
    /// what the last exec was given (the bootstrap token, trimmed), then reports exit code 0.
    /// </summary>
    public static void RecordExecs(IDockerClient docker, List<RecordingStream> execs, Func<string, Task>? onDelivered = null)
    {
        if (onDelivered is not null)
        {
            docker.Exec.InspectContainerExecAsync(Arg.Any<string>(), Arg.Any<CancellationToken>())
                .Returns(async _ =>
                {
                    await onDelivered(Encoding.ASCII.GetString(execs[^1].Written.ToArray()).Trim());
                    return new ContainerExecInspectResponse { ExitCode = 0 };
                });
        }
        docker.Exec.ExecCreateContainerAsync(Arg.Any<string>(), Arg.Any<ContainerExecCreateParameters>(), Arg.Any<CancellationToken>())
            .Returns(_ => new ContainerExecCreateResponse { ID = "exec" + execs.Count });
        docker.Exec.StartAndAttachContainerExecAsync(Arg.Any<string>(), false, Arg.Any<CancellationToken>())
            .Returns(_ =>
            {
                var stream = new RecordingStream();
                execs.Add(stream);
                return new MultiplexedStream(stream, false);
            });
    }
}
