using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Run;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Tests.Run;

public sealed class RunEnvironmentTests
{
    private static readonly AiCredential OpenAi = new() { CredentialId = "c1", Provider = "openai" };

    [Fact]
    public void ForProxy_Codex_PlaceholderInBothKeysAndBaseUrlAsConfigArgument()
    {
        var (environment, route) = ProxyEnvironment("codex");

        Assert.Equal(route.Placeholder, environment.Variables["CODEX_API_KEY"]);
        Assert.Equal(route.Placeholder, environment.Variables["OPENAI_API_KEY"]);
        Assert.Equal(["-c", "openai_base_url=http://127.0.0.1:4321/v1"], environment.Arguments);
        Assert.DoesNotContain(environment.Arguments, a => a.Contains(route.Placeholder, StringComparison.Ordinal));
    }

    [Fact]
    public void Command_ToolsOwnExecutable_ArgumentsRightAfterIt()
    {
        var (environment, _) = ProxyEnvironment("codex");

        var command = environment.Command(["/opt/npm/bin/codex", "exec", "hello"], "codex");

        Assert.Equal(["/opt/npm/bin/codex", "-c", "openai_base_url=http://127.0.0.1:4321/v1", "exec", "hello"], command);
    }

    [Fact]
    public void Command_Wrapper_Unchanged()
    {
        var (environment, _) = ProxyEnvironment("codex");
        string[] argv = ["npx", "codex", "exec", "hello"];

        Assert.Same(argv, environment.Command(argv, "codex"));
    }

    [Fact]
    public void ForProxy_ToolWithoutArguments_CommandUnchanged()
    {
        var (environment, route) = ProxyEnvironment("opencode");
        string[] argv = ["opencode", "run", "hello"];

        Assert.Empty(environment.Arguments);
        Assert.Same(argv, environment.Command(argv, null));
        Assert.Equal(route.LocalBaseUrl, environment.Variables["OPENAI_BASE_URL"]);
    }

    private static (RunEnvironment Environment, ProxyEndpoint Route) ProxyEnvironment(string tool)
    {
        var plan = Assert.Single(ToolPlan.Create(ToolCatalogue.BuiltIn, tool, [OpenAi]));
        // As the sidecar's proxy opener answers: the port it bound and the provider's local prefix.
        var endpoint = new ProxyEndpoint
        {
            Provider = "openai", CredentialId = OpenAi.CredentialId, Port = 4321,
            Placeholder = "xares-proxy-placeholder-0123", LocalBaseUrl = "http://127.0.0.1:4321" + plan.Provider.LocalPrefix,
        };
        return (RunEnvironment.ForProxy([plan], [endpoint]), endpoint);
    }
}
