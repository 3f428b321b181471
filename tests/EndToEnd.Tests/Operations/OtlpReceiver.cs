using System.Net;
using Google.Protobuf;
using Xares.EndToEnd.Tests.Otlp;

namespace Xares.EndToEnd.Tests.Operations;

/// <summary>
/// An OpenTelemetry collector stand-in: accepts OTLP/HTTP protobuf exports on POST /v1/traces and
/// keeps every span it decoded.
/// </summary>
internal sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<(Resource Resource, InstrumentationScope Scope, Span Span)> _spans = [];
    private readonly Task _loop;

    public OtlpReceiver()
    {
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Requests that were not a protobuf POST to /v1/traces.</summary>
    public List<string> Unexpected { get; } = [];

    public IReadOnlyList<(Resource Resource, InstrumentationScope Scope, Span Span)> Spans
    {
        get
        {
            lock (_spans)
            {
                return [.. _spans];
            }
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var response = context.Response;
            if (context.Request.HttpMethod != "POST" || context.Request.Url?.AbsolutePath != "/v1/traces" || context.Request.ContentType != "application/x-protobuf")
            {
                lock (_spans)
                {
                    Unexpected.Add($"{context.Request.HttpMethod} {context.Request.Url?.AbsolutePath} {context.Request.ContentType}");
                }
                response.StatusCode = 404;
                continue;
            }
            var export = ExportTraceServiceRequest.Parser.ParseFrom(context.Request.InputStream);
            lock (_spans)
            {
                foreach (var resource in export.ResourceSpans)
                {
                    foreach (var scope in resource.ScopeSpans)
                    {
                        _spans.AddRange(scope.Spans.Select(span => (resource.Resource, scope.Scope, span)));
                    }
                }
            }
            response.ContentType = "application/x-protobuf";
            var body = new ExportTraceServiceResponse().ToByteArray();
            await response.OutputStream.WriteAsync(body);
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(10));
    }
}
