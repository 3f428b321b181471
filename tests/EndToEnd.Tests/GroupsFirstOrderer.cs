using Xunit.Abstractions;

namespace Xares.EndToEnd.Tests;

/// <summary>
/// Starts the collections that group several classes (<see cref="DockerEngineCollection"/>: they run their
/// classes one after another) before the one-class collections, then the rest in xunit's own order.
/// Started where chance put it, the Docker group (~3 minutes end to end) began late and ran on
/// alone at the end, one thread of two idle; started first, it runs beside the other classes.
/// Collections that are not run in parallel (the deadline group) still come after all of these.
/// </summary>
public sealed class GroupsFirstOrderer : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.CollectionDefinition is null).ThenBy(c => c.UniqueID);
}
