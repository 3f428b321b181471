using System.Security.Cryptography;
using Google.Protobuf;

namespace Xares.Sidecar.Local;

/// <summary>Varint length-delimited protobuf messages (the WriteDelimitedTo format), read with a size cap.</summary>
internal static class DelimitedMessages
{
    public const int MaxMessageBytes = 64 * 1024;

    public static async Task<T> ReadAsync<T>(Stream stream, MessageParser<T> parser, int maxBytes, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        var length = await ReadLengthAsync(stream, cancellationToken);
        if (length > maxBytes)
        {
            throw new InvalidDataException($"message of {length} bytes exceeds the {maxBytes}-byte limit");
        }
        var buffer = new byte[length];
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken);
            return parser.ParseFrom(buffer);
        }
        finally
        {
            // Requests and responses may carry secrets (bootstrap tokens, passwords).
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    public static async Task WriteAsync(Stream stream, IMessage message, CancellationToken cancellationToken)
    {
        var size = message.CalculateSize();
        var buffer = new byte[CodedOutputStream.ComputeLengthSize(size) + size];
        try
        {
            var output = new CodedOutputStream(buffer);
            output.WriteLength(size);
            message.WriteTo(output);
            output.Flush();
            await stream.WriteAsync(buffer, cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    private static async Task<int> ReadLengthAsync(Stream stream, CancellationToken cancellationToken)
    {
        var one = new byte[1];
        var result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new EndOfStreamException("connection closed before a message arrived");
            }
            result |= (one[0] & 0x7f) << shift;
            if ((one[0] & 0x80) == 0)
            {
                return result < 0 ? throw new InvalidDataException("message length out of range") : result;
            }
        }
        throw new InvalidDataException("malformed message length");
    }
}
