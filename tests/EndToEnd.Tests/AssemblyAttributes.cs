// Real processes on 2 cores: classes run one after another so timing checks (revocation
// within a second, fail-fast on a dead broker) measure Xares, not CPU contention.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
