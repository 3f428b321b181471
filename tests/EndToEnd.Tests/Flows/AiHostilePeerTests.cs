using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Xares.EndToEnd.Tests.Infrastructure;
using Xares.Protos.Sidecar.V1;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// A process of the workspace user that speaks the sidecar socket's protocol itself (this test
/// process: same uid as the sidecar, so its peer check lets it in), and the tool a `run` started,
/// try to get keys out of the real published sidecar (invariant k).
/// </summary>
public sealed class AiHostilePeerTests(AiFixture fixture) : IClassFixture<AiFixture>
{
    [Fact]
    public async Task SocketPeer_ProxyOnlyKeyInNoMode_ProxyModeNeverASecret()
    {
        var user = await fixture.CreateUserAsync();  // OpenAI and Anthropic, proxy-only (the default)
        var anyKey = "sk-or-" + TestSecrets.NewToken();
        fixture.OpenAi.AcceptKey(anyKey);
        await fixture.AddAiCredentialAsync(user.UserId, "openrouter", anyKey, fixture.OpenAi.BaseUrl, null, delivery: "any");
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);
        string[] proxyOnlyKeys = [user.OpenAiKey, user.AnthropicKey!];

        var answers = new List<(string What, SidecarResponse Response)>();
        foreach (var provider in new[] { "openai", "anthropic", "openrouter" })
        {
            foreach (var mode in new[] { "proxy", "inject", "" })
            {
                answers.Add(($"{provider} {mode}", await SendAsync(sidecar.SocketPath, new SidecarRequest { AiKey = new AiKeyRequest { Provider = provider, Mode = mode } })));
            }
        }
        answers.Add(("list", await SendAsync(sidecar.SocketPath, new SidecarRequest { AiCredentials = new AiCredentialsRequest() })));
        answers.Add(("usage", await SendAsync(sidecar.SocketPath, new SidecarRequest { AiUsage = new AiUsageRequest { LeaseId = "lease_x", Requests = 1 } })));
        var open = new OpenProxyRequest();
        open.Targets.Add(new ProxyTarget { Provider = "openai" });
        open.Targets.Add(new ProxyTarget { Provider = "openrouter" });
        using var proxyConnection = await ConnectAsync(sidecar.SocketPath);
        answers.Add(("open proxy", await ExchangeAsync(proxyConnection, new SidecarRequest { OpenProxy = open })));

        foreach (var (what, response) in answers)
        {
            var bytes = response.ToByteString().ToStringUtf8();
            foreach (var key in proxyOnlyKeys)
            {
                Assert.False(bytes.Contains(key, StringComparison.Ordinal), $"{what}: a proxy-only key came back");
            }
            if (what != "openrouter inject")
            {
                Assert.False(bytes.Contains(anyKey, StringComparison.Ordinal), $"{what}: a key came back outside inject mode");
            }
        }
        var byWhat = answers.ToDictionary(a => a.What, a => a.Response);
        Assert.Equal("proxy_only", byWhat["openai inject"].Error.Code);
        Assert.Equal("proxy_only", byWhat["anthropic inject"].Error.Code);
        Assert.Equal("bad_request", byWhat["openai proxy"].Error.Code);
        Assert.Equal("bad_request", byWhat["openrouter proxy"].Error.Code);
        Assert.Equal("bad_request", byWhat["usage"].Error.Code);
        // The peer protocol works: an "any" credential is handed out for inject, as documented.
        Assert.Equal(anyKey, byWhat["openrouter inject"].AiKey.Secret);
        // A peer may open (and use) a proxy like `run` does — the key stays behind it.
        var endpoints = byWhat["open proxy"].OpenProxy.Endpoints;
        Assert.Equal(2, endpoints.Count);
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoints[0].LocalBaseUrl + "/models");
        request.Headers.Add("Authorization", "Bearer " + endpoints[0].Placeholder);
        using var answer = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains(fixture.OpenAi.Calls, c => c.Accepted && c.PresentedKey == user.OpenAiKey);
    }

    [Fact]
    public async Task RunningTool_AsksTheSocketForItsKey_GetsNothing_WhileTheProxyWorks()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);
        // The tool (a prompt-injected agent, say) uses the proxy, then tries the sidecar's own
        // commands on the socket it inherited, and shows its environment.
        const string script = """
            curl -s -o /dev/null -w 'proxy=%{http_code}\n' -H "Authorization: Bearer $OPENAI_API_KEY" "$OPENAI_BASE_URL/models"
            "$1" env --shell bash; echo "env=$?"
            "$1" run --mode inject -- sh -c 'echo "inner=$OPENAI_API_KEY"'; echo "inject=$?"
            echo "environ=$(base64 -w0 < /proc/$$/environ)"
            """;

        var result = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--tool", "codex", "--", "sh", "-c", script, "sh", Artifacts.Sidecar]).ShouldSucceedAsync();

        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("proxy=200", lines);
        Assert.DoesNotContain("env=0", lines);
        Assert.DoesNotContain("inject=0", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("inner=", StringComparison.Ordinal));
        Assert.Contains("is proxy-only", result.Stderr, StringComparison.Ordinal);
        var environ = Encoding.UTF8.GetString(Convert.FromBase64String(lines.Single(l => l.StartsWith("environ=", StringComparison.Ordinal))["environ=".Length..]));
        Assert.Contains("OPENAI_API_KEY=xares-placeholder-", environ, StringComparison.Ordinal);
        Assert.DoesNotContain(user.OpenAiKey, environ + result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.Single(fixture.OpenAi.Calls, c => c.Accepted && c.PresentedKey == user.OpenAiKey);
    }

    [Fact]
    public async Task SocketPeer_ReportsUsageOnAnotherWorkspacesLease_RefusedItsUsageUnmoved()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false, monthlyLimit: 100);
        // The other workspace: a real lease with its first block, taken through the broker's gRPC.
        var grant = await fixture.Admin.CreateWorkspaceAsync(user.UserId, fixture.NextName("victim-"));
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(fixture.Broker.GrpcUrl);
        var broker = new Xares.Protos.Broker.V1.SidecarBroker.SidecarBrokerClient(channel);
        var session = await broker.OpenSessionAsync(new Xares.Protos.Broker.V1.OpenSessionRequest { BootstrapToken = grant.BootstrapToken });
        var auth = new Grpc.Core.Metadata { { "authorization", "Bearer " + session.SessionToken } };
        var victimLease = (await broker.GetAiCredentialAsync(new Xares.Protos.Broker.V1.AiCredentialRequest { Provider = "openai", Mode = "proxy" }, auth)).Lease;
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);
        var before = (await fixture.GetCredentialAsync(user.OpenAiCredentialId)).GetProperty("usage").GetRawText();

        var answers = new List<SidecarResponse>();
        foreach (var usage in new[]
        {
            new AiUsageRequest { LeaseId = victimLease.LeaseId, Requests = 1_000_000, InputTokens = 1_000_000_000 },
            new AiUsageRequest { LeaseId = victimLease.LeaseId, Requests = -32 },
        })
        {
            answers.Add(await SendAsync(sidecar.SocketPath, new SidecarRequest { AiUsage = usage }));
        }

        Assert.All(answers, a => Assert.Equal("bad_request", a.Error.Code));
        var after = (await fixture.GetCredentialAsync(user.OpenAiCredentialId)).GetProperty("usage");
        Assert.Equal(before, after.GetRawText());
        Assert.Equal(32, after.GetProperty("usesThisMonth").GetInt64());
    }

    private static async Task<SidecarResponse> SendAsync(string socketPath, SidecarRequest request)
    {
        using var socket = await ConnectAsync(socketPath);
        return await ExchangeAsync(socket, request);
    }

    private static async Task<Socket> ConnectAsync(string socketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        return socket;
    }

    /// <summary>The socket's framing, written by hand: one varint length-delimited request, one response.</summary>
    private static async Task<SidecarResponse> ExchangeAsync(Socket socket, SidecarRequest request)
    {
        var stream = new NetworkStream(socket, ownsSocket: false);
        request.WriteDelimitedTo(stream);
        await stream.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await Task.Run(() => SidecarResponse.Parser.ParseDelimitedFrom(stream), timeout.Token);
    }
}
