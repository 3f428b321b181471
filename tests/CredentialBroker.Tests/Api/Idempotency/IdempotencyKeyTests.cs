using Microsoft.Extensions.Primitives;
using Xares.Broker.Api;
using Xares.Broker.Api.Idempotency;

namespace Xares.Broker.Tests.Api.Idempotency;

public sealed class IdempotencyKeyTests
{
    [Fact]
    public void Read_NoHeader_Null() => Assert.Null(IdempotencyKey.Read(StringValues.Empty));

    [Theory]
    [InlineData("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324")]
    [InlineData("  retry-1\t", "retry-1")]
    [InlineData("\"8e03978e-40d5\"", "8e03978e-40d5")]
    [InlineData("\"with space, comma and \\\"quote\\\"\"", "with space, comma and \"quote\"")]
    [InlineData("\"back\\\\slash\"", "back\\slash")]
    public void Read_BareOrStructuredString_TheKey(string header, string expected) => Assert.Equal(expected, IdempotencyKey.Read(header));

    [Fact]
    public void Read_MaxLength_Accepted() => Assert.Equal(255, IdempotencyKey.Read(new string('k', 255))!.Length);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\"\"")]
    [InlineData("a b")]
    [InlineData("a,b")]
    [InlineData("\"unterminated")]
    [InlineData("\"bad\\escape\"")]
    [InlineData("\"inner\"quote\"")]
    [InlineData("ключ")]
    [InlineData("tab\tinside")]
    [InlineData("nul\0")]
    public void Read_Malformed_InvalidIdempotencyKey(string header)
    {
        var error = Assert.Throws<InvalidIdempotencyKeyException>(() => IdempotencyKey.Read(header));
        Assert.Equal("invalid-idempotency-key", error.ProblemType);
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public void Read_TooLong_InvalidIdempotencyKey() =>
        Assert.Throws<InvalidIdempotencyKeyException>(() => IdempotencyKey.Read(new string('k', 256)));

    [Fact]
    public void Read_Repeated_InvalidIdempotencyKey() =>
        Assert.Throws<InvalidIdempotencyKeyException>(() => IdempotencyKey.Read(new StringValues(["a", "b"])));
}
