using Xares.Broker.Storage;

namespace Xares.Broker.Hosting;

internal static class Readiness
{
    public static async Task<IResult> Check(Database database)
    {
        try
        {
            await database.ReadAsync(c => Sql.Scalar(c, null, "SELECT 1"));
            return TypedResults.Ok(new { status = "ready" });
        }
        catch (Exception)
        {
            return TypedResults.Problem(title: "The database is unreachable.", statusCode: StatusCodes.Status503ServiceUnavailable,
                type: Api.ProblemMapping.TypeBase + "unavailable");
        }
    }
}
