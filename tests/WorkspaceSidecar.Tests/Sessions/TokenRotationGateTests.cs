using Xares.Sidecar.Sessions;

namespace Xares.Sidecar.Tests.Sessions;

public sealed class TokenRotationGateTests
{
    [Fact]
    public async Task EnterRotation_CallInFlight_WaitsForIt()
    {
        var gate = new TokenRotationGate();
        var call = await gate.EnterCallAsync(CancellationToken.None);

        var rotation = gate.EnterRotationAsync(CancellationToken.None).AsTask();
        Assert.False(rotation.IsCompleted);

        call.Dispose();
        (await rotation.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task EnterCall_DuringRotation_WaitsForIt()
    {
        var gate = new TokenRotationGate();
        var rotation = await gate.EnterRotationAsync(CancellationToken.None);

        var call = gate.EnterCallAsync(CancellationToken.None).AsTask();
        Assert.False(call.IsCompleted);

        rotation.Dispose();
        (await call.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task EnterRotation_Cancelled_LetsCallsThrough()
    {
        var gate = new TokenRotationGate();
        var call = await gate.EnterCallAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var rotation = gate.EnterRotationAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rotation);

        (await gate.EnterCallAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        call.Dispose();
    }
}
