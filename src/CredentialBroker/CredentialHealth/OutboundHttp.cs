using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// The broker's one outbound HTTP client (rule j). Each connection resolves its host once
/// inside the ConnectCallback, refuses addresses <see cref="OutboundAddressPolicy"/> rejects
/// unless the allow-list admits them, and connects to exactly the address it checked, so a
/// second DNS answer cannot rebind it. No redirects, no proxy, no cookies, no decompression;
/// bodies are capped and every request times out. Failures come back as a reason, never as an
/// exception, and a reason never holds a request header (where the secret is).
/// </summary>
internal sealed class OutboundHttp : IDisposable
{
    public const int DefaultMaxBodyBytes = 64 * 1024;
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _client;
    private readonly OutboundAllowList _allow;
    private readonly TimeSpan _timeout;
    private readonly int _maxBodyBytes;

    public OutboundHttp(OutboundAllowList allow, TimeSpan? timeout = null, int maxBodyBytes = DefaultMaxBodyBytes)
    {
        _allow = allow;
        _timeout = timeout ?? DefaultTimeout;
        _maxBodyBytes = maxBodyBytes;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectCallback = ConnectAsync,
            ConnectTimeout = _timeout,
            MaxResponseHeadersLength = 32, // KiB
            // Connections are re-made (and their address re-checked) rather than kept for long.
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("xares-broker");
    }

    /// <summary>Sends a GET; <paramref name="authorize"/> adds the provider's headers (the secret lives only there).</summary>
    public Task<OutboundResponse> GetAsync(Uri url, Action<HttpRequestMessage> authorize, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, url, authorize, cancellationToken);

    /// <summary>
    /// Sends any request (token minting POSTs, upstream revocation DELETEs); <paramref name="prepare"/>
    /// adds the headers and body. The same rules as <see cref="GetAsync"/> apply.
    /// </summary>
    public async Task<OutboundResponse> SendAsync(HttpMethod method, Uri url, Action<HttpRequestMessage> prepare, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url);
        prepare(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                return OutboundResponse.Failed($"redirect refused (HTTP {status} from {url.Host}); the redirect target was not contacted");
            }
            var body = await ReadCappedAsync(response.Content, timeout.Token);
            return body is null
                ? OutboundResponse.Failed($"the response from {url.Host} is larger than {_maxBodyBytes / 1024} KiB")
                : new OutboundResponse(status, CopyHeaders(response), body, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return OutboundResponse.Failed($"{url.Host} did not answer within {_timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex)
        {
            return OutboundResponse.Failed(Describe(ex, url));
        }
    }

    private static Dictionary<string, string> CopyHeaders(HttpResponseMessage response) =>
        response.Headers.Concat(response.Content.Headers)
            .GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => string.Join(", ", g.SelectMany(h => h.Value)), StringComparer.OrdinalIgnoreCase);

    private async Task<byte[]?> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > _maxBodyBytes)
        {
            return null;
        }
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[_maxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }
        return length > _maxBodyBytes ? null : buffer[..length];
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var permitted = addresses.Where(a => _allow.Admits(host, port, a) || OutboundAddressPolicy.RefusalReason(a) is null).ToList();
        if (permitted.Count == 0)
        {
            var first = addresses.FirstOrDefault();
            throw new OutboundRefusedException(first is null
                ? $"{host} has no address"
                : $"{host}:{port} resolves to {first}, {OutboundAddressPolicy.RefusalReason(first)}; outbound tests refuse it unless --outbound-allow admits it");
        }
        SocketException? last = null;
        foreach (var address in permitted)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }

    private static string Describe(HttpRequestException ex, Uri url)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case OutboundRefusedException refused:
                    return "refused: " + refused.Message;
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain }:
                    return $"could not resolve {url.Host}";
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return $"{url.Host}:{url.Port} refused the connection";
                case SocketException socket:
                    return $"could not connect to {url.Host}:{url.Port} ({socket.SocketErrorCode})";
                case AuthenticationException:
                    return $"the TLS handshake with {url.Host} failed (certificate not trusted or protocol mismatch)";
            }
        }
        return $"the request to {url.Host} failed ({ex.HttpRequestError})";
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>What a provider answered: status, headers and a capped body — or, with <see cref="Error"/>, why there is no answer.</summary>
internal sealed record OutboundResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body, string? Error)
{
    public static OutboundResponse Failed(string reason) => new(0, new Dictionary<string, string>(), [], reason);

    public bool IsSuccess => Error is null && Status is >= 200 and < 300;

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>Rule j refused the destination before any connection was made.</summary>
internal sealed class OutboundRefusedException(string message) : IOException(message);
