using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Run;

/// <summary>
/// The variables a run sets for its tool, the base-URL arguments it adds to the command (never a
/// key: only URLs go on a command line), and the secrets among the variables (for masking).
/// </summary>
internal sealed class RunEnvironment
{
    public Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

    public List<string> Arguments { get; } = [];

    public List<string> Secrets { get; } = [];

    /// <summary>Inject mode (and `env`): the real key, and the base URL when the credential names a non-default one.</summary>
    public static async Task<RunEnvironment> InjectAsync(IReadOnlyList<ProviderPlan> plans, SidecarAiClient sidecar, CancellationToken cancellationToken)
    {
        var environment = new RunEnvironment();
        foreach (var plan in plans)
        {
            var key = await sidecar.RequireKeyAsync(plan.Provider.Id, plan.Credential.CredentialId, Ai.AiCredentialService.InjectMode, cancellationToken);
            environment.Secrets.Add(key.Secret);
            foreach (var name in plan.Variables.KeyVariables)
            {
                environment.Variables.TryAdd(name, key.Secret);
            }
            if (!plan.Provider.IsDefault(key.BaseUrl))
            {
                environment.AddBaseUrl(plan.Variables, key.BaseUrl);
            }
        }
        return environment;
    }

    /// <summary>Proxy mode: the placeholder and the proxy's base URL; no real key.</summary>
    public static RunEnvironment ForProxy(IReadOnlyList<ProviderPlan> plans, IReadOnlyList<ProxyEndpoint> endpoints)
    {
        var environment = new RunEnvironment();
        foreach (var plan in plans)
        {
            var endpoint = endpoints.FirstOrDefault(e => string.Equals(e.Provider, plan.Provider.Id, StringComparison.OrdinalIgnoreCase))
                ?? throw new SidecarException($"the sidecar opened no proxy for {plan.Provider.Id}");
            foreach (var name in plan.Variables.KeyVariables)
            {
                environment.Variables.TryAdd(name, endpoint.Placeholder);
            }
            environment.AddBaseUrl(plan.Variables, endpoint.LocalBaseUrl);
        }
        return environment;
    }

    /// <summary>
    /// The command to run: <paramref name="argv"/> with <see cref="Arguments"/> right after the
    /// command name when the command is the tool's own executable (matched by file name); otherwise
    /// unchanged, since a wrapper such as npx or a script would take them as its own.
    /// </summary>
    public string[] Command(string[] argv, string? executable)
    {
        if (Arguments.Count == 0 || executable is null || argv.Length == 0 || Path.GetFileName(argv[0]) != executable)
        {
            return argv;
        }
        return [argv[0], .. Arguments, .. argv[1..]];
    }

    private void AddBaseUrl(ToolVariables variables, string baseUrl)
    {
        foreach (var name in variables.BaseUrlVariables)
        {
            Variables.TryAdd(name, baseUrl);
        }
        Arguments.AddRange(variables.BaseUrlArguments.Select(a => a.Replace(ToolVariables.BaseUrlHole, baseUrl, StringComparison.Ordinal)));
    }
}
