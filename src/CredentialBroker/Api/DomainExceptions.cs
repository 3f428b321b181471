namespace Xares.Broker.Api;

/// <summary>Base of the expected failures the REST and gRPC layers map to problem+json / status codes.</summary>
internal abstract class DomainException(string message) : Exception(message)
{
    /// <summary>Stable problem type slug, e.g. "not-found" → /docs/errors#not-found (a section of docs/errors.md).</summary>
    public abstract string ProblemType { get; }

    public abstract int StatusCode { get; }
}

/// <summary>Unknown id, or an id the caller may not see (answered the same way, so ids can't be probed).</summary>
internal sealed class NotFoundException(string what) : DomainException($"{what} was not found.")
{
    public override string ProblemType => "not-found";

    public override int StatusCode => StatusCodes.Status404NotFound;
}

internal sealed class ValidationException(string message, IDictionary<string, string[]>? errors = null) : DomainException(message)
{
    public IDictionary<string, string[]> Errors { get; } = errors ?? new Dictionary<string, string[]>();

    public override string ProblemType => "validation";

    public override int StatusCode => StatusCodes.Status400BadRequest;

    public static ValidationException For(string field, string message) =>
        new(message, new Dictionary<string, string[]> { [field] = [message] });
}

internal sealed class ConflictException(string message) : DomainException(message)
{
    public override string ProblemType => "conflict";

    public override int StatusCode => StatusCodes.Status409Conflict;
}

/// <summary>The caller is known but may not do this (e.g. grant a scope it lacks).</summary>
internal sealed class ForbiddenException(string message) : DomainException(message)
{
    public override string ProblemType => "forbidden";

    public override int StatusCode => StatusCodes.Status403Forbidden;
}
