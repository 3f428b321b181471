namespace Xares.Broker.Docker;

/// <summary>Audit actions of the Docker watcher (actor "docker"), queried like any other action.</summary>
internal static class DockerAudit
{
    public const string Actor = "docker";

    /// <summary>A container was bound to a workspace (success), or refused (denied: unknown, revoked or already bound).</summary>
    public const string ContainerBind = "docker.bind";

    /// <summary>The bound container stopped: its sessions and leases were revoked.</summary>
    public const string ContainerStop = "docker.stop";

    /// <summary>A bootstrap token was delivered into the container (success) or could not be (failure: the workspace is failing).</summary>
    public const string ContainerBootstrap = "docker.bootstrap";

    /// <summary>An id short enough for details and logs.</summary>
    public static string Short(string containerId) => containerId.Length > 12 ? containerId[..12] : containerId;

    /// <summary>A label value is attacker-chosen text: keep it short and printable before recording it.</summary>
    public static string Printable(string value)
    {
        var kept = new string([.. value.Take(64).Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.' ? ch : '?')]);
        return value.Length > 64 ? kept + "…" : kept;
    }
}
