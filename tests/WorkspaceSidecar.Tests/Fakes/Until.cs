namespace Xares.Sidecar.Tests.Fakes;

/// <summary>For sidecar-internal conditions that have no signal to await: checks often, fails after a deadline.</summary>
internal static class Until
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what ?? "condition"}");
            }
            await Task.Delay(10);
        }
    }
}
