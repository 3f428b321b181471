using System.Net.WebSockets;
using System.Text.Json;
using Xares.Protos.Sidecar.V1;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>
/// One relayed WebSocket: the tool's socket and the provider's, two pumps copying frames as they
/// arrive. Each <c>response.create</c> the tool sends first checks that the key is still the one
/// the socket was opened with (a revoked key, a reached limit or a rotation closes both sides, as
/// the HTTP path refuses the next request), and counts as one request when its response ends, with
/// the tokens of <c>response.completed</c>.
/// </summary>
internal sealed class RelayedSocket(WebSocket tool, WebSocket provider, ProxyRoute route, AiKeyResponse openedWith, UsageReporter usage)
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private const int ParsedBytes = 4 * 1024 * 1024;
    private const int TypeBytes = 16 * 1024;
    private readonly SemaphoreSlim _toolSend = new(1, 1);
    private readonly Queue<string> _pendingLeases = new();
    private readonly Lock _pendingLock = new();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var fromTool = FromToolAsync(stop.Token);
        var fromProvider = FromProviderAsync(stop.Token);
        var first = await Task.WhenAny(fromTool, fromProvider);
        // A clean close is passed on and gets a moment for the other side's answer; anything else ends both at once.
        if (first.IsCompletedSuccessfully)
        {
            stop.CancelAfter(CloseTimeout);
        }
        else
        {
            await stop.CancelAsync();
        }
        try
        {
            await Task.WhenAll(fromTool, fromProvider);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            tool.Abort();
            provider.Abort();
            lock (_pendingLock)
            {
                // Asked for and never answered (closed mid-response): still one request each.
                while (_pendingLeases.TryDequeue(out var leaseId))
                {
                    usage.Add(leaseId, default);
                }
            }
        }
    }

    private async Task FromToolAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await tool.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await CloseAsync(provider, result.CloseStatus, result.CloseStatusDescription, cancellationToken);
                return;
            }
            // The start of a text message is gathered (up to TypeBytes) until its type can be read, since
            // a receive may return fewer bytes than a frame; a create is checked before any of it is sent.
            var start = result.Count;
            string? type = null;
            while (result.MessageType == WebSocketMessageType.Text &&
                (type = ResponsesSocketEvents.Type(buffer.AsSpan(0, start), result.EndOfMessage)) is null &&
                !result.EndOfMessage && start < TypeBytes)
            {
                result = await tool.ReceiveAsync(new ArraySegment<byte>(buffer, start, buffer.Length - start), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(provider, result.CloseStatus, result.CloseStatusDescription, cancellationToken);
                    return;
                }
                start += result.Count;
            }
            long length = start;
            if (result.MessageType == WebSocketMessageType.Text &&
                (type == ResponsesSocketEvents.Create || (type is null && !result.EndOfMessage)))
            {
                // A message whose first TypeBytes hold no type is taken for a request too.
                if (await CheckKeyAsync(cancellationToken) is { } leaseId)
                {
                    lock (_pendingLock)
                    {
                        _pendingLeases.Enqueue(leaseId);
                    }
                }
                else
                {
                    return;
                }
            }
            var count = start;
            while (true)
            {
                await provider.SendAsync(buffer.AsMemory(0, count), result.MessageType, result.EndOfMessage, cancellationToken);
                if (result.EndOfMessage)
                {
                    break;
                }
                result = await tool.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(provider, result.CloseStatus, result.CloseStatusDescription, cancellationToken);
                    return;
                }
                count = result.Count;
                length += count;
                if (length > WebSocketRelay.MaxMessageBytes)
                {
                    await CloseBothAsync(WebSocketCloseStatus.MessageTooBig, "message too large for the xares proxy", cancellationToken);
                    return;
                }
            }
        }
    }

    private async Task FromProviderAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var copy = new MemoryStream();
        while (true)
        {
            var result = await provider.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await SendToToolAsync(() => CloseAsync(tool, result.CloseStatus, result.CloseStatusDescription, cancellationToken));
                return;
            }
            copy.SetLength(0);
            long length = 0;
            string? firstFrameType = null;
            var first = true;
            while (true)
            {
                length += result.Count;
                if (length > WebSocketRelay.MaxMessageBytes)
                {
                    await CloseBothAsync(WebSocketCloseStatus.MessageTooBig, "message too large for the xares proxy", cancellationToken);
                    return;
                }
                if (first && result.MessageType == WebSocketMessageType.Text)
                {
                    firstFrameType = ResponsesSocketEvents.Type(buffer.AsSpan(0, result.Count), result.EndOfMessage);
                }
                first = false;
                if (copy.Length + result.Count <= ParsedBytes)
                {
                    copy.Write(buffer, 0, result.Count);
                }
                var frame = result;
                await SendToToolAsync(() => tool.SendAsync(buffer.AsMemory(0, frame.Count), frame.MessageType, frame.EndOfMessage, cancellationToken));
                if (result.EndOfMessage)
                {
                    break;
                }
                result = await provider.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    var closing = result;
                    await SendToToolAsync(() => CloseAsync(tool, closing.CloseStatus, closing.CloseStatusDescription, cancellationToken));
                    return;
                }
            }
            // The whole message when it was small enough to keep (nearly always), else its first frame.
            var whole = copy.Length == length;
            var message = copy.GetBuffer().AsSpan(0, (int)copy.Length);
            if (ResponsesSocketEvents.EndsResponse(whole ? ResponsesSocketEvents.Type(message, true) : firstFrameType))
            {
                Ended(whole ? ResponsesSocketEvents.Usage(message) : default);
            }
        }
    }

    private void Ended(TokenCounts tokens)
    {
        lock (_pendingLock)
        {
            if (_pendingLeases.TryDequeue(out var leaseId))
            {
                usage.Add(leaseId, tokens);
            }
        }
    }

    /// <summary>The lease to count the request on, or null after telling the tool why the socket closes.</summary>
    private async Task<string?> CheckKeyAsync(CancellationToken cancellationToken)
    {
        AiKeyResponse key;
        try
        {
            key = await route.GetKeyAsync(cancellationToken);
        }
        catch (SidecarException ex)
        {
            await RefuseAsync(502, "xares_unavailable", $"xares: {ex.Message}", WebSocketCloseStatus.InternalServerError, cancellationToken);
            return null;
        }
        if (!key.Found)
        {
            await (key.LimitReached
                ? RefuseAsync(429, "monthly_limit_reached",
                    $"xares: the {route.Provider.Id} credential {key.CredentialId} has reached its monthly limit; ask your platform admin to raise it",
                    WebSocketCloseStatus.PolicyViolation, cancellationToken)
                : RefuseAsync(403, "no_credential", $"xares: no {route.Provider.Id} credential is available to this workspace any more",
                    WebSocketCloseStatus.PolicyViolation, cancellationToken));
            return null;
        }
        if (key.Secret != openedWith.Secret || key.BaseUrl != openedWith.BaseUrl)
        {
            // The socket upstream was opened with the old key: close it; the tool reconnects (with the new key) or falls back to HTTP.
            await CloseBothAsync(WebSocketCloseStatus.EndpointUnavailable, "the key changed; reconnect", cancellationToken);
            return null;
        }
        return key.LeaseId;
    }

    /// <summary>An <c>error</c> event in the shape Codex reads (status, error.code, error.message), then a close.</summary>
    private async Task RefuseAsync(int status, string code, string message, WebSocketCloseStatus closeStatus, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "error");
            writer.WriteNumber("status", status);
            writer.WriteStartObject("error");
            writer.WriteString("type", code);
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        var json = buffer.ToArray();
        await SendToToolAsync(() => tool.SendAsync(json.AsMemory(), WebSocketMessageType.Text, true, cancellationToken));
        await CloseBothAsync(closeStatus, code, cancellationToken);
    }

    /// <summary>The tool's side first, so the close it sees is this one and not the provider's answer to it.</summary>
    private async Task CloseBothAsync(WebSocketCloseStatus status, string description, CancellationToken cancellationToken)
    {
        await SendToToolAsync(() => CloseAsync(tool, status, description, cancellationToken));
        await CloseAsync(provider, status, description, cancellationToken);
    }

    /// <summary>Sends a close unless this side already sent one (both pumps and a refusal may close).</summary>
    private static Task CloseAsync(WebSocket socket, WebSocketCloseStatus? status, string? description, CancellationToken cancellationToken) =>
        socket.State is WebSocketState.Open or WebSocketState.CloseReceived
            ? socket.CloseOutputAsync(status ?? WebSocketCloseStatus.NormalClosure, status == WebSocketCloseStatus.Empty ? null : description, cancellationToken)
            : Task.CompletedTask;

    /// <summary>Both pumps may write to the tool's socket (events, and refusals or closes); one send at a time.</summary>
    private async Task SendToToolAsync(Func<Task> send)
    {
        await _toolSend.WaitAsync();
        try
        {
            await send();
        }
        finally
        {
            _toolSend.Release();
        }
    }

    private Task SendToToolAsync(Func<ValueTask> send) => SendToToolAsync(() => send().AsTask());
}
