using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Cli;
using Xares.Sidecar.Run;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Tests.Run;

public sealed class ToolPlanTests
{
    private static readonly AiCredential OpenAi = new() { CredentialId = "c1", Provider = "openai" };
    private static readonly AiCredential Anthropic = new() { CredentialId = "c2", Provider = "anthropic" };
    private static readonly AiCredential Google = new() { CredentialId = "c3", Provider = "google" };

    [Fact]
    public void Create_NoTool_EveryProviderUnderStandardVariables()
    {
        var plans = ToolPlan.Create(ToolCatalogue.BuiltIn, null, [Google, OpenAi, Anthropic]);

        Assert.Equal(["openai", "anthropic", "google"], plans.Select(p => p.Provider.Id));
        Assert.Equal(["GEMINI_API_KEY", "GOOGLE_API_KEY"], plans[2].Variables.KeyVariables);
        Assert.Contains("OPENAI_BASE_URL", plans[0].Variables.BaseUrlVariables);
    }

    [Fact]
    public void Create_ClaudeTool_OnlyAnthropic()
    {
        var plans = ToolPlan.Create(ToolCatalogue.BuiltIn, "claude", [OpenAi, Anthropic]);

        var plan = Assert.Single(plans);
        Assert.Equal("anthropic", plan.Provider.Id);
        Assert.Equal(["ANTHROPIC_BASE_URL"], plan.Variables.BaseUrlVariables);
    }

    [Fact]
    public void Create_UnknownTool_ClearError()
    {
        var error = Assert.Throws<SidecarException>(() => ToolPlan.Create(ToolCatalogue.BuiltIn, "vim", [OpenAi]));

        Assert.StartsWith("unknown tool vim; known tools: aider, claude, codex, continue, gemini, opencode", error.Message);
    }

    [Fact]
    public void Create_NoCredentialForToolsProvider_ClearError()
    {
        var error = Assert.Throws<SidecarException>(() => ToolPlan.Create(ToolCatalogue.BuiltIn, "claude", [OpenAi]));

        Assert.Equal("no AI credential for tool claude: it uses anthropic, and the workspace owner has only openai", error.Message);
    }

    [Fact]
    public void Create_NoCredentialsAtAll_ClearError()
    {
        Assert.Throws<SidecarException>(() => ToolPlan.Create(ToolCatalogue.BuiltIn, null, []));
    }

    [Fact]
    public void Create_ToolsProviderExcludedByPolicy_NamesHostAndPolicyNotMissingCredential()
    {
        var listed = new AiCredentialsResponse { Credentials = { OpenAi } };
        listed.ExcludedByPolicy.Add(new ExcludedAiCredential { CredentialId = "c2", Provider = "anthropic", Host = "api.anthropic.com:443" });

        var error = Assert.Throws<SidecarException>(() => ToolPlan.Create(ToolCatalogue.BuiltIn, "claude", listed));

        Assert.Equal("no usable AI credential for tool claude: the workspace owner has an AI credential that this workspace may not use: "
            + "the workspace policy's allowedHosts exclude api.anthropic.com:443 (the anthropic credential c2); "
            + "to allow it, a broker admin adds the host to the workspace's allowedHosts with PATCH /api/v1/workspaces/{id}", error.Message);
    }

    [Fact]
    public void Create_NoToolEveryCredentialExcludedByPolicy_NamesThePolicy()
    {
        var listed = new AiCredentialsResponse();
        listed.ExcludedByPolicy.Add(new ExcludedAiCredential { CredentialId = "c1", Provider = "openai", Host = "api.openai.com:443" });

        var error = Assert.Throws<SidecarException>(() => ToolPlan.Create(ToolCatalogue.BuiltIn, null, listed));

        Assert.Contains("allowedHosts exclude api.openai.com:443 (the openai credential c1)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("has no AI credentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_InjectNoTool_ProxyOnlyPassedOverForTheOthers()
    {
        var proxyOnlyOpenAi = new AiCredential { CredentialId = "c4", Provider = "openai", ProxyOnly = true };

        var inject = ToolPlan.Create(ToolCatalogue.BuiltIn, null, [proxyOnlyOpenAi, Anthropic], inject: true);
        var proxy = ToolPlan.Create(ToolCatalogue.BuiltIn, null, [proxyOnlyOpenAi, Anthropic]);

        Assert.Equal([("anthropic", "c2")], inject.Select(p => (p.Provider.Id, p.Credential.CredentialId)));
        Assert.Equal([("openai", "c4"), ("anthropic", "c2")], proxy.Select(p => (p.Provider.Id, p.Credential.CredentialId)));
    }

    [Fact]
    public void Create_InjectProviderWithProxyOnlyAndAnyCredential_TakesTheAnyOne()
    {
        var proxyOnlyOpenAi = new AiCredential { CredentialId = "c4", Provider = "openai", ProxyOnly = true };

        var plan = Assert.Single(ToolPlan.Create(ToolCatalogue.BuiltIn, "codex", [proxyOnlyOpenAi, OpenAi], inject: true));

        Assert.Equal("c1", plan.Credential.CredentialId);
    }

    [Fact]
    public void Create_InjectToolWhoseCredentialsAreProxyOnly_SaysProxyOnlyNotMissing()
    {
        var proxyOnlyAnthropic = new AiCredential { CredentialId = "c5", Provider = "anthropic", ProxyOnly = true };

        var forTool = Assert.Throws<SidecarException>(() => ToolPlan.Create(ToolCatalogue.BuiltIn, "claude", [OpenAi, proxyOnlyAnthropic], inject: true));
        var noTool = Assert.Throws<SidecarException>(() => ToolPlan.Create(ToolCatalogue.BuiltIn, null, [proxyOnlyAnthropic], inject: true));

        Assert.Equal("no AI credential of tool claude may be injected: the anthropic credential c5 is proxy-only (its key never enters a workspace process); "
            + "use `xares-sidecar run` in proxy mode (the default), or ask for delivery \"any\" on the credential", forTool.Message);
        Assert.Contains("the anthropic credential c5 is proxy-only", noTool.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("has no AI credentials", noTool.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ExcludedProviderButAnotherUsable_PlansTheUsableOne()
    {
        var listed = new AiCredentialsResponse { Credentials = { OpenAi } };
        listed.ExcludedByPolicy.Add(new ExcludedAiCredential { CredentialId = "c2", Provider = "anthropic", Host = "api.anthropic.com:443" });

        Assert.Equal(["openai"], ToolPlan.Create(ToolCatalogue.BuiltIn, "aider", listed).Select(p => p.Provider.Id));
    }

    [Fact]
    public void Parse_ToolsFile_AddsToolAndFallsBackToStandardVariables()
    {
        var catalogue = ToolCatalogue.Parse("""
            // comments are allowed
            { "tools": [ { "name": "mytool", "providers": { "openrouter": { "keyVariables": ["OPENAI_API_KEY"], "baseUrlVariables": ["OPENAI_BASE_URL"] }, "groq": {} } } ] }
            """, "tools.json");

        var tool = catalogue.FindTool("mytool")!;
        Assert.Equal(["OPENAI_API_KEY"], tool.Providers["openrouter"].KeyVariables);
        Assert.Equal(["GROQ_API_KEY"], tool.Providers["groq"].KeyVariables);
        Assert.NotNull(catalogue.FindTool("aider"));
    }

    [Fact]
    public void Parse_ToolsFileReplacingCodex_KeepsBaseUrlArguments()
    {
        var catalogue = ToolCatalogue.Parse("""
            { "tools": [ { "name": "codex", "executable": "codex", "providers": { "openrouter": {
                "keyVariables": ["CODEX_API_KEY"], "baseUrlVariables": [], "baseUrlArguments": ["-c", "openai_base_url={baseUrl}"] } } } ] }
            """, "tools.json");

        var tool = catalogue.FindTool("codex")!;
        Assert.Equal("codex", tool.Executable);
        Assert.Equal(["-c", "openai_base_url={baseUrl}"], tool.Providers["openrouter"].BaseUrlArguments);
        Assert.True(tool.Providers["openrouter"].TakesBaseUrl);
    }

    [Fact]
    public void Create_CodexTool_CodexKeyFirstAndBaseUrlArgument()
    {
        var plan = Assert.Single(ToolPlan.Create(ToolCatalogue.BuiltIn, "codex", [OpenAi, Anthropic]));

        Assert.Equal(["CODEX_API_KEY", "OPENAI_API_KEY"], plan.Variables.KeyVariables);
        Assert.Equal(["-c", "openai_base_url={baseUrl}"], plan.Variables.BaseUrlArguments);
        Assert.Equal("codex", ToolCatalogue.BuiltIn.FindTool("codex")!.Executable);
    }

    [Theory]
    [InlineData("""{ "tools": [ { "name": "x", "providers": { "openai": { "baseUrlArguments": ["--base={baseUrl}"] } } } ] }""", "need the tool's \"executable\"")]
    [InlineData("""{ "tools": [ { "name": "x", "executable": "x", "providers": { "openai": { "baseUrlArguments": ["--base"] } } } ] }""", "need the tool's \"executable\"")]
    [InlineData("""{ "tools": [ { "name": "x", "providers": { "mistral": {} } } ] }""", "unknown provider mistral")]
    [InlineData("""{ "tools": [ { "name": "x", "providers": { "openai": { "keyVariables": ["A=B"] } } } ] }""", "is not an environment variable name")]
    [InlineData("""{ "tools": [ """, "not a valid tools file")]
    public void Parse_BadToolsFile_ClearError(string json, string expected)
    {
        var error = Assert.Throws<SidecarException>(() => ToolCatalogue.Parse(json, "tools.json"));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void EnvFormat_QuotesForEachShell()
    {
        var variables = new Dictionary<string, string> { ["K"] = "a'b\\c" };

        Assert.Equal("export K='a'\\''b\\c';\n", EnvCommand.Format(variables, "bash"));
        Assert.Equal("set -gx K 'a\\'b\\\\c';\n", EnvCommand.Format(variables, "fish"));
    }
}
