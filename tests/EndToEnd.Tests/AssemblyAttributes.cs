// Real processes on 2 cores: two test classes at a time (xunit's conservative algorithm starts no
// more collections than threads). Classes that share a machine-wide resource, or that check a
// deadline of Xares itself, are grouped in the collections of TestCollections.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerClass, MaxParallelThreads = 2)]
[assembly: TestCollectionOrderer("Xares.EndToEnd.Tests.GroupsFirstOrderer", "EndToEnd.Tests")]
