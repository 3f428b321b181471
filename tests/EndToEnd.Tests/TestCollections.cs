namespace Xares.EndToEnd.Tests;

/// <summary>
/// Tests that watch or start containers on the private Docker engines: one at a time, so no
/// broker's watcher bootstraps (or revokes) another test's containers.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DockerEngineCollection
{
    public const string Name = "docker engines";
}

/// <summary>
/// Tests that check a deadline of Xares (revocation heard within seconds, fail-fast on a dead
/// broker, bounded AI runs): run alone, after the parallel classes, so they measure Xares and
/// not the CPU contention of another test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeadlineCollection
{
    public const string Name = "deadlines";
}
