using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xares.Broker.CredentialHealth;

namespace Xares.Broker.Tests.CredentialHealth;

/// <summary>
/// Rule j through real sockets: the metadata address, a loopback port that is not
/// allow-listed and a redirect target are never contacted; bodies are capped; slow servers time out.
/// </summary>
public sealed class OutboundHttpTests
{
    private static Task<OutboundResponse> GetAsync(OutboundHttp http, string url) =>
        http.GetAsync(new Uri(url), r => r.Headers.Add("x-api-key", "k3y"), CancellationToken.None);

    [Fact]
    public async Task Get_MetadataAddress_RefusedBeforeConnecting()
    {
        using var http = new OutboundHttp(OutboundAllowList.Parse(["127.0.0.1"]));

        var response = await GetAsync(http, "http://169.254.169.254/latest/meta-data/");

        Assert.False(response.IsSuccess);
        Assert.StartsWith("refused:", response.Error, StringComparison.Ordinal);
        Assert.Contains("link-local", response.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_LoopbackPortNotAllowListed_RefusedAndListenerNeverContacted()
    {
        using var admin = new ConnectionCounter();
        await using var allowed = await FakeProvider.StartAsync(app => app.MapGet("/", () => "ok"));
        using var http = new OutboundHttp(OutboundAllowList.Parse([$"127.0.0.1:{allowed.Port}"]));

        var refused = await GetAsync(http, $"http://127.0.0.1:{admin.Port}/admin");
        var viaName = await GetAsync(http, $"http://localhost:{admin.Port}/admin");
        var ok = await GetAsync(http, $"{allowed.Origin}/");

        Assert.Contains("loopback", refused.Error, StringComparison.Ordinal);
        Assert.StartsWith("refused:", viaName.Error, StringComparison.Ordinal);
        Assert.True(ok.IsSuccess, ok.Error);
        await Task.Delay(200);
        Assert.Equal(0, admin.Connections);
    }

    [Fact]
    public async Task Get_Redirect_NotFollowedAndTargetNeverContacted()
    {
        using var target = new ConnectionCounter();
        await using var redirector = await FakeProvider.StartAsync(app =>
            app.MapGet("/user", (HttpContext c) => Results.Redirect($"http://127.0.0.1:{target.Port}/steal")));
        using var http = new OutboundHttp(OutboundAllowList.Parse(["127.0.0.1"]));

        var response = await GetAsync(http, $"{redirector.Origin}/user");

        Assert.False(response.IsSuccess);
        Assert.Contains("redirect refused (HTTP 302", response.Error, StringComparison.Ordinal);
        await Task.Delay(200);
        Assert.Equal(0, target.Connections);
    }

    [Fact]
    public async Task Get_BodyOverCap_Failed()
    {
        await using var server = await FakeProvider.StartAsync(app =>
        {
            app.MapGet("/big", async context =>
            {
                // Chunked, so the cap is enforced while reading rather than from Content-Length.
                for (var i = 0; i < 80; i++)
                {
                    await context.Response.WriteAsync(new string('x', 1024));
                    await context.Response.Body.FlushAsync();
                }
            });
            app.MapGet("/small", () => "fine");
        });
        using var http = new OutboundHttp(OutboundAllowList.Parse(["127.0.0.1"]));

        var big = await GetAsync(http, $"{server.Origin}/big");
        var small = await GetAsync(http, $"{server.Origin}/small");

        Assert.Contains("larger than 64 KiB", big.Error, StringComparison.Ordinal);
        Assert.True(small.IsSuccess);
    }

    [Fact]
    public async Task Get_SlowServer_TimesOut()
    {
        await using var server = await FakeProvider.StartAsync(app => app.MapGet("/slow", async (HttpContext c) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), c.RequestAborted);
            return "late";
        }));
        using var http = new OutboundHttp(OutboundAllowList.Parse(["127.0.0.1"]), TimeSpan.FromMilliseconds(300));

        var response = await GetAsync(http, $"{server.Origin}/slow");

        Assert.Contains("did not answer within", response.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_ConnectionRefused_ClearReason()
    {
        int port;
        using (var closed = new ConnectionCounter())
        {
            port = closed.Port;
        }
        using var http = new OutboundHttp(OutboundAllowList.Parse(["127.0.0.1"]));

        var response = await GetAsync(http, $"http://127.0.0.1:{port}/");

        Assert.Contains("refused the connection", response.Error, StringComparison.Ordinal);
    }
}
