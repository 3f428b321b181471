using System.Diagnostics;
using Xares.Bench.FleetLoad.Measures;
using Xares.Bench.FleetLoad.Sidecars;
using Xares.DevKit;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// A broker restart under the whole fleet: the fleet's credential is deleted right before the
/// SIGTERM (streams may or may not carry it before they close), the broker starts again on the same
/// data dir, and a fresh credential is created and deleted right after. Done when every sidecar has
/// reopened its stream and heard both; each must have heard every revocation of the run exactly
/// once, in sequence order (resumed after its last sequence: nothing skipped, nothing re-sent).
/// </summary>
internal static class RestartPhase
{
    public sealed record Result(string Line, string Summary);

    public static async Task<Result> RunAsync(Fleet fleet, BrokerProcess broker, AdminClient admin, string userId, IReadOnlyList<string> earlierRevocations, Witnesses witnesses, TimeSpan timeout)
    {
        var beforeStop = earlierRevocations[^1];
        await admin.DeleteCredentialAsync(beforeStop);
        var start = Stopwatch.GetTimestamp();
        SqliteRun.Progress("restart: SIGTERM");
        await broker.StopAsync(TimeSpan.FromSeconds(30));
        var stopped = Stopwatch.GetElapsedTime(start).TotalSeconds;
        using var health = new HealthWatch(broker.RestUrl, fleet.Count + witnesses.Count);
        // DevKit's own probe runs on this process's busy thread pool: it only gates the next step.
        await broker.StartAgainAsync(TimeSpan.FromSeconds(300));
        var ready = Stopwatch.GetElapsedTime(start, health.HealthyAt ?? Stopwatch.GetTimestamp()).TotalSeconds;
        SqliteRun.Progress($"restart: stopped after {stopped:F1} s, healthy again after {ready:F1} s (DevKit's probe: {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s)");
        var afterStart = await FleetCredential.CreateAsync(admin, userId);
        await admin.DeleteCredentialAsync(afterStart);

        string[] all = [.. earlierRevocations, afterStart];
        bool Resumed(SimulatedSidecar s) => s.Connected && s.ConnectedAt > start && all.All(id => s.Heard(id, out _));
        var resumed = await fleet.WaitUntilAllAsync(Resumed, timeout);
        var streamsBack = health.StreamsBackAt is { } back ? $"{Stopwatch.GetElapsedTime(start, back).TotalSeconds:F1}" : "n/a";
        var done = fleet.Sidecars.Where(Resumed)
            .Select(s => Stopwatch.GetElapsedTime(start, Math.Max(s.ConnectedAt, all.Max(id => s.Heard(id, out var at) ? at : 0))).TotalMilliseconds);
        var times = new Percentiles(done);
        var missed = fleet.Sidecars.Count(s => !all.All(id => s.Heard(id, out _)));
        var outOfOrder = fleet.Sidecars.Sum(s => s.OutOfOrder);
        var reconnects = fleet.Sidecars.Sum(s => s.StreamsOpened) - fleet.Count;
        var witnessesBack = await witnesses.ConnectedAsync(TimeSpan.FromSeconds(30));
        var witnessesHeard = await witnesses.HeardAsync(afterStart, TimeSpan.FromSeconds(10));
        var line = $"restart: resumed={resumed}/{fleet.Count} stopped_s={stopped:F1} ready_s={ready:F1} broker_streams_back_s={streamsBack} all_resumed_s={times.Max / 1000:F1} " +
            $"resume_p50={times.At(50) / 1000:F1}s resume_p99={times.At(99) / 1000:F1}s missed={missed} out_of_order={outOfOrder} stream_opens_beyond_first={reconnects} " +
            $"retry_hints_honoured={ReconnectBackoff.HintsHonoured} shed_total={(await MetricsScrape.SumAsync(broker.RestUrl, "xares_connections_shed_total"))?.ToString("F0") ?? "n/a"} refreshes={fleet.Sidecars.Sum(s => s.Refreshes)} sessions_ended={fleet.Sidecars.Count(s => s.Ended is not null)} " +
            $"witnesses_connected={witnessesBack}/{witnesses.Count} witnesses_heard={witnessesHeard}/{witnesses.Count}";
        var summary = $"restart (SIGTERM, same data dir): broker healthy after {ready:F1} s, all streams open by the broker's count after {streamsBack} s, {resumed}/{fleet.Count} resumed and told after {times.Max / 1000:F1} s " +
            $"(p50 {times.At(50) / 1000:F1} s), {missed} missed an event, {outOfOrder} out of order";
        return new Result(line, summary);
    }
}
