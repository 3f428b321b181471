namespace Xares.Broker.Docker;

/// <summary>
/// A container as the broker knows it: the engine it runs on and its id there. Ids are unique only
/// within one engine, so the pair is what is stored (workspaces.container_engine, container_id),
/// audited and logged.
/// </summary>
internal readonly record struct ContainerRef(string Engine, string Id)
{
    /// <summary>engine/id with the id shortened, for audit details and logs.</summary>
    public string Short => $"{Engine}/{DockerAudit.Short(Id)}";

    public override string ToString() => $"{Engine}/{Id}";
}
