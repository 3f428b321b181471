namespace Xares.Broker.Api;

/// <summary>The Idempotency-Key header is missing a value, repeated, too long or not printable ASCII.</summary>
internal sealed class InvalidIdempotencyKeyException(string message) : DomainException(message)
{
    public override string ProblemType => "invalid-idempotency-key";

    public override int StatusCode => StatusCodes.Status400BadRequest;
}

/// <summary>The key was first used with another method, path or body; a key names one request.</summary>
internal sealed class IdempotencyKeyMismatchException()
    : DomainException("This Idempotency-Key was already used with a different request; use a new key for a new request.")
{
    public override string ProblemType => "idempotency-key-mismatch";

    public override int StatusCode => StatusCodes.Status422UnprocessableEntity;
}

/// <summary>The first request with this key is still running; retry shortly and get its answer.</summary>
internal sealed class IdempotencyKeyInUseException()
    : DomainException("A request with this Idempotency-Key is still being processed; retry shortly.")
{
    public override string ProblemType => "idempotency-key-in-use";

    public override int StatusCode => StatusCodes.Status409Conflict;
}

/// <summary>The first answer held a one-time secret and its replay window has passed; it is gone for good.</summary>
internal sealed class IdempotencyReplayExpiredException()
    : DomainException("The request with this Idempotency-Key succeeded, but its answer held a one-time secret that can no longer be replayed; " +
        "look the resource up, and rotate or re-create it if you need the secret.")
{
    public override string ProblemType => "idempotency-replay-expired";

    public override int StatusCode => StatusCodes.Status410Gone;
}

/// <summary>If-Match names no current version of the resource (someone changed it since it was read).</summary>
internal sealed class PreconditionFailedException()
    : DomainException("The resource changed since it was read (If-Match does not match its ETag); read it again and retry.")
{
    public override string ProblemType => "precondition-failed";

    public override int StatusCode => StatusCodes.Status412PreconditionFailed;
}
