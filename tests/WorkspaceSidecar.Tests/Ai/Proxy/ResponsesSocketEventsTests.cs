using System.Text;
using Xares.Sidecar.Ai.Proxy;

namespace Xares.Sidecar.Tests.Ai.Proxy;

public sealed class ResponsesSocketEventsTests
{
    [Theory]
    [InlineData("""{"type":"response.create","model":"m"}""", true, "response.create")]
    [InlineData("""{"model":"m","input":[{"type":"message"}],"type":"response.create"}""", true, "response.create")]
    // The first frame of a longer message: the type is there, the rest is not yet.
    [InlineData("""{"type":"response.create","input":[{"type":"mess""", false, "response.create")]
    [InlineData("""{"input":[{"type":"message","content":"lo""", false, null)]
    [InlineData("""{"type":"respo""", false, null)]
    [InlineData("""{"type":7}""", true, null)]
    [InlineData("""[{"type":"response.create"}]""", true, null)]
    [InlineData("not json", true, null)]
    public void Type_FromFirstBytes(string start, bool whole, string? expected) =>
        Assert.Equal(expected, ResponsesSocketEvents.Type(Encoding.UTF8.GetBytes(start), whole));

    [Fact]
    public void Usage_ResponseCompleted_TokensFromResponseUsage()
    {
        var completed = """{"type":"response.completed","response":{"id":"r","usage":{"input_tokens":12,"output_tokens":6,"total_tokens":18}}}""";

        Assert.Equal(new TokenCounts(12, 6), ResponsesSocketEvents.Usage(Encoding.UTF8.GetBytes(completed)));
        Assert.Equal(default, ResponsesSocketEvents.Usage("""{"type":"error","status":400}"""u8));
        Assert.Equal(default, ResponsesSocketEvents.Usage("""{"type":"response.completed","response":{"usage":{"input_tokens":-5}}}"""u8));
        Assert.Equal(default, ResponsesSocketEvents.Usage("{broken"u8));
    }

    [Theory]
    [InlineData("response.completed", true)]
    [InlineData("response.failed", true)]
    [InlineData("response.incomplete", true)]
    [InlineData("error", true)]
    [InlineData("response.output_text.delta", false)]
    [InlineData(null, false)]
    public void EndsResponse_TerminalEventsOnly(string? type, bool expected) =>
        Assert.Equal(expected, ResponsesSocketEvents.EndsResponse(type));
}
