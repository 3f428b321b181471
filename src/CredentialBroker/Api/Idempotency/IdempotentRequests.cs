using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Api.Idempotency;

/// <summary>
/// Idempotency-Key on creating POSTs (README, REST conventions): the first successful answer
/// per caller and key is stored (sealed by the vault) and replayed to a retry of the same request
/// for 24 h instead of creating again. An answer holding a one-time secret is replayed only
/// within <see cref="SecretReplayWindow"/>. A failed request frees the key. Put on a route with
/// <c>.WithIdempotencyKey()</c>.
/// </summary>
internal sealed partial class IdempotentRequests(WriteQueue writes, Keyring keyring, TimeProvider time, ILogger<IdempotentRequests> logger)
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    public static readonly TimeSpan SecretReplayWindow = TimeSpan.FromMinutes(10);

    /// <summary>How long a reservation blocks retries when its broker dies before answering.</summary>
    public static readonly TimeSpan InFlightLock = TimeSpan.FromMinutes(5);

    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context, RequestDelegate next, bool answerCarriesSecret)
    {
        var key = IdempotencyKey.Read(context.Request.Headers[IdempotencyKey.Header]);
        if (key is null)
        {
            await next(context);
            return;
        }
        var caller = context.Caller().KeyId;
        var hash = await HashRequestAsync(context.Request);
        var (outcome, answer) = await writes.ExecuteAsync((c, t) =>
            IdempotencyStore.Begin(c, t, caller, key, hash, time.GetUtcNow(), Retention, InFlightLock));
        switch (outcome)
        {
            case IdempotencyOutcome.Mismatch:
                throw new IdempotencyKeyMismatchException();
            case IdempotencyOutcome.InUse:
                context.Response.OnStarting(() =>
                {
                    context.Response.Headers.RetryAfter = "1";
                    return Task.CompletedTask;
                });
                throw new IdempotencyKeyInUseException();
            case IdempotencyOutcome.ReplayExpired:
                throw new IdempotencyReplayExpiredException();
            case IdempotencyOutcome.Replay:
                await ReplayAsync(context, answer!, Seal(caller, key, hash));
                return;
        }

        byte[] body;
        try
        {
            body = await BufferedResponse.RunAsync(context, next);
        }
        catch
        {
            await ReleaseAsync(caller, key);
            throw;
        }
        var response = context.Response;
        if (BufferedResponse.IsSuccess(response.StatusCode))
        {
            await StoreAsync(caller, key, new StoredAnswer(response.StatusCode, response.Headers.Location, response.ContentType,
                answerCarriesSecret ? time.GetUtcNow() + SecretReplayWindow : null, keyring.Seal(body, Seal(caller, key, hash))));
        }
        else
        {
            await ReleaseAsync(caller, key);
        }
        await BufferedResponse.SendAsync(context, body);
    }

    private async Task ReplayAsync(HttpContext context, StoredAnswer answer, SecretContext sealedFor)
    {
        byte[] body;
        try
        {
            body = keyring.Open(answer.Body!, sealedFor);
        }
        catch (SecretIntegrityException)
        {
            // Its keyring version was pruned, or the row was altered: it cannot be replayed.
            throw new IdempotencyReplayExpiredException();
        }
        var response = context.Response;
        response.StatusCode = answer.StatusCode;
        response.ContentType = answer.ContentType;
        if (answer.Location is not null)
        {
            response.Headers.Location = answer.Location;
        }
        response.Headers[ReplayedHeader] = "true";
        await BufferedResponse.SendAsync(context, body);
    }

    // The answer is stored even if the client has gone: its retry is what the key is for.
    private async Task StoreAsync(string caller, string key, StoredAnswer answer)
    {
        try
        {
            await writes.ExecuteAsync((c, t) => IdempotencyStore.Complete(c, t, caller, key, answer));
        }
        catch (StorageUnavailableException)
        {
            // The resource exists: answer the client now; a retry waits for the lock and may create again.
            LogNotStored(logger);
        }
    }

    private async Task ReleaseAsync(string caller, string key)
    {
        try
        {
            await writes.ExecuteAsync((c, t) => IdempotencyStore.Release(c, t, caller, key));
        }
        catch (StorageUnavailableException)
        {
            LogNotReleased(logger);
        }
    }

    /// <summary>SHA-256 of method, path, query and body: a key names exactly one request.</summary>
    internal static async Task<byte[]> HashRequestAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.PathBase}{request.Path}{request.QueryString}\n"));
        var buffer = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }
        request.Body.Position = 0;
        return hash.GetHashAndReset();
    }

    // Bound to the caller, the key and the request, so a stored answer moved to another row fails to open.
    private static SecretContext Seal(string caller, string key, byte[] requestHash) =>
        new("idempotency", caller, 1, "idempotent-answer", "", Convert.ToHexStringLower(requestHash), key);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "An idempotent answer could not be stored (database unavailable); a retry may repeat the request")]
    private static partial void LogNotStored(ILogger logger);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "An idempotency key could not be freed (database unavailable); it frees itself when its lock ends")]
    private static partial void LogNotReleased(ILogger logger);
}
