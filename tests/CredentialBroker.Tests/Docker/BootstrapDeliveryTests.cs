using System.Net;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Net.Http.Client;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Xares.Broker.Docker;

namespace Xares.Broker.Tests.Docker;

public sealed class BootstrapDeliveryTests
{
    private const string Token = "xbt_0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly IDockerClient _docker = Substitute.For<IDockerClient>();
    private readonly RecordingStream _stream = new();

    public BootstrapDeliveryTests()
    {
        _docker.Exec.ExecCreateContainerAsync(Arg.Any<string>(), Arg.Any<ContainerExecCreateParameters>(), Arg.Any<CancellationToken>())
            .Returns(new ContainerExecCreateResponse { ID = "exec1" });
        _docker.Exec.StartAndAttachContainerExecAsync("exec1", false, Arg.Any<CancellationToken>())
            .Returns(_ => new MultiplexedStream(_stream, false));
    }

    [Fact]
    public async Task DeliverAsync_ExecSucceeds_TokenOnlyOnStdin()
    {
        _docker.Exec.InspectContainerExecAsync("exec1", Arg.Any<CancellationToken>()).Returns(new ContainerExecInspectResponse { ExitCode = 0 });

        var result = await new BootstrapDelivery(_docker).DeliverAsync("c1", Token, CancellationToken.None);

        Assert.True(result.Delivered);
        Assert.Equal(Token + "\n", Encoding.ASCII.GetString(_stream.Written.ToArray()));
        Assert.True(_stream.WriteClosed);
        await _docker.Exec.Received(1).ExecCreateContainerAsync("c1", Arg.Is<ContainerExecCreateParameters>(p =>
            p.AttachStdin && !p.Tty && p.Cmd.SequenceEqual(BootstrapDelivery.Command) && (p.Env == null || p.Env.Count == 0)
            && !p.Cmd.Any(a => a.Contains("xbt_", StringComparison.Ordinal))), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task DeliverAsync_ImageWithWorkspaceUser_ExecRunsAsRootNotTheImagesUser()
    {
        // With USER set to the workspace user, a default exec would put the token through a process that user can trace.
        _docker.Exec.InspectContainerExecAsync("exec1", Arg.Any<CancellationToken>()).Returns(new ContainerExecInspectResponse { ExitCode = 0 });

        await new BootstrapDelivery(_docker).DeliverAsync("c1", Token, CancellationToken.None);

        await _docker.Exec.Received(1).ExecCreateContainerAsync("c1", Arg.Is<ContainerExecCreateParameters>(p => p.User == "0" && !p.Privileged),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task DeliverAsync_ExecExitsNonZero_ReportsItsMessageWithoutToken()
    {
        _stream.Output = "xares: /run/xares is not a tmpfs; got " + Token;
        _docker.Exec.InspectContainerExecAsync("exec1", Arg.Any<CancellationToken>()).Returns(new ContainerExecInspectResponse { ExitCode = 1 });

        var result = await new BootstrapDelivery(_docker).DeliverAsync("c1", Token, CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.Contains("not a tmpfs", result.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeliverAsync_ContainerGone_ReportsFailure()
    {
        _docker.Exec.ExecCreateContainerAsync(Arg.Any<string>(), Arg.Any<ContainerExecCreateParameters>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new DockerContainerNotFoundException(HttpStatusCode.NotFound, "No such container: c1"));

        var result = await new BootstrapDelivery(_docker).DeliverAsync("c1", Token, CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.Contains("NotFound", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeliverAsync_EngineUnreachableBeforeTheExec_FailedAttemptNotAnException()
    {
        _docker.Exec.ExecCreateContainerAsync(Arg.Any<string>(), Arg.Any<ContainerExecCreateParameters>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new HttpRequestException("Connection failed", new IOException("Cannot assign requested address")));

        var result = await new BootstrapDelivery(_docker).DeliverAsync("c1", Token, CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.Contains("did not answer: Cannot assign requested address", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeliverAsync_ExitCodeUnreadableAfterTheExecRan_CountsAsDeliveredForTheSessionToDecide()
    {
        _docker.Exec.InspectContainerExecAsync("exec1", Arg.Any<CancellationToken>()).ThrowsAsync(new HttpRequestException("Connection failed"));

        var result = await new BootstrapDelivery(_docker).DeliverAsync("c1", Token, CancellationToken.None);

        Assert.True(result.Delivered);
        Assert.Equal(Token + "\n", Encoding.ASCII.GetString(_stream.Written.ToArray()));
    }

    [Fact]
    public async Task DeliverAsync_ExecHangs_TimesOut()
    {
        _docker.Exec.InspectContainerExecAsync("exec1", Arg.Any<CancellationToken>())
            .Returns(async call => { await Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>()); return new ContainerExecInspectResponse(); });

        var result = await new BootstrapDelivery(_docker) { Timeout = TimeSpan.FromMilliseconds(200) }.DeliverAsync("c1", Token, CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.Contains("did not finish", result.Problem, StringComparison.Ordinal);
    }
}
