using System.Net;
using System.Text;

namespace Xares.Bench.ProxyOverhead;

/// <summary>
/// An OpenAI-shaped endpoint on loopback that answers at once: a small chat completion, or (with
/// "stream": true) a stream of chunks. It checks the key, so the proxy's swap is on the measured path.
/// </summary>
internal sealed class ProviderStub : IAsyncDisposable
{
    public const int StreamChunks = 20;
    private static readonly byte[] Small = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"gpt-bench","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}}""");
    private static readonly byte[] Chunk = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token \"}}]}\n\n");
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private readonly WebApplication _app;
    private readonly string _expected;

    private ProviderStub(WebApplication app, string key)
    {
        _app = app;
        _expected = "Bearer " + key;
    }

    public string BaseUrl { get; private set; } = "";

    public static async Task<ProviderStub> StartAsync(string key)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var stub = new ProviderStub(app, key);
        app.Run(stub.HandleAsync);
        await app.StartAsync();
        stub.BaseUrl = app.Urls.First().TrimEnd('/') + "/v1";
        return stub;
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Headers.Authorization != _expected)
        {
            context.Response.StatusCode = 401;
            return;
        }
        // ?delay=MS: a provider that takes its time, as real ones do (time to first byte).
        if (context.Request.Query.TryGetValue("delay", out var delay))
        {
            await Task.Delay(int.Parse(delay.ToString(), System.Globalization.CultureInfo.InvariantCulture));
        }
        var stream = context.Request.Query.ContainsKey("stream");
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = Small.Length;
            await context.Response.Body.WriteAsync(Small);
            return;
        }
        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < StreamChunks; i++)
        {
            await context.Response.Body.WriteAsync(Chunk);
            await context.Response.Body.FlushAsync();
        }
        await context.Response.Body.WriteAsync(Done);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
