using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Xares.Broker.Storage;

namespace Xares.Broker.Api;

/// <summary>
/// The one place domain exceptions become RFC 9457 problem details. A 500 never echoes an
/// exception message (it could hold anything); only the trace id, to find the log line.
/// </summary>
internal sealed partial class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    /// <summary>The base every problem type is written with; see <see cref="ProblemTypes"/> for the configured one.</summary>
    public const string TypeBase = ProblemTypes.DefaultBase;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = ToProblem(exception);
        if (problem.Status >= 500)
        {
            LogUnhandled(logger, exception.GetType().Name, httpContext.TraceIdentifier);
        }
        httpContext.Response.StatusCode = problem.Status ?? 500;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    public static ProblemDetails ToProblem(Exception exception) => exception switch
    {
        ValidationException v => new HttpValidationProblemDetails(v.Errors)
        {
            Type = TypeBase + v.ProblemType, Title = "The request is not valid.", Detail = v.Message, Status = v.StatusCode,
        },
        DomainException d => new ProblemDetails { Type = TypeBase + d.ProblemType, Title = d.Message, Status = d.StatusCode },
        BadHttpRequestException b => new ProblemDetails
        {
            Type = TypeBase + (b.StatusCode == 413 ? "too-large" : "bad-request"),
            Title = b.StatusCode == 413 ? "The request body is too large." : "The request could not be read.",
            Detail = b.StatusCode == 413 ? null : SafeBadRequestDetail(b),
            Status = b.StatusCode,
        },
        StorageUnavailableException => new ProblemDetails
        {
            Type = TypeBase + "unavailable", Title = "The database is unavailable; nothing was changed.", Status = StatusCodes.Status503ServiceUnavailable,
        },
        _ => new ProblemDetails { Type = TypeBase + "internal", Title = "An internal error occurred.", Status = StatusCodes.Status500InternalServerError },
    };

    // Framework messages for malformed JSON name the parameter and position, never a value we stored.
    private static string SafeBadRequestDetail(BadHttpRequestException exception) =>
        exception.InnerException is System.Text.Json.JsonException json
            ? $"Malformed JSON: {json.Message.Split(". Path:")[0]}."
            : exception.Message;

    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "Unhandled {ExceptionType} for request {TraceId}")]
    private static partial void LogUnhandled(ILogger logger, string exceptionType, string traceId);
}
