using System.Text;
using CsCheck;
using Xares.GitHelper.Tests.Support;
using Xares.Protos.Sidecar.V1;

namespace Xares.GitHelper.Tests;

// Properties of the git credential protocol input: whatever git (or anything posing as git)
// writes, the reader fails only with HelperException, and `get` hands the sidecar's secret to
// stdout only for a request the reader accepted — and prints nothing at all on failure.
public sealed class CredentialRequestReaderPropertyTests
{
    private const string Secret = "xares-property-secret-5f1c";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Keys git sends, keys it might, near misses and hostile ones.
    private static readonly Gen<string> Key = Gen.OneOf(
        Gen.OneOfConst("protocol", "host", "path", "username", "password", "url", "capability[]", "wwwauth[]", "Host", "PROTOCOL",
            "password_expiry_utc", "", " host", "host ", "url\0", "pass\rword"),
        Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz_[]=\r\0 "], 0, 12]);

    // Values: plausible ones, URL shapes, control characters and arbitrary text.
    private static readonly Gen<string> Value = Gen.OneOf(
        Gen.OneOfConst("https", "http", "ssh", "example.com", "git.example.com:8443", "[::1]:3000", "org/repo.git", "alice",
            "https://alice:pa%40ss@h/p", "https://h", "https://[::1", "http://%zz", "https://h:99999/", "://", "a=b==", "\r", "\0", ""),
        Gen.String[Gen.Char["aZ09:/@%.?#[]=\r\0\t é\u2028\uFFFD"], 0, 40],
        Gen.String);

    private static readonly Gen<string> Line = Gen.Frequency(
        (8, Gen.Select(Key, Value, (k, v) => $"{k}={v}")),
        (1, Gen.String[Gen.Char["ab=\r\0 "], 0, 20]),
        (1, Gen.Const("")));

    private static readonly Gen<string> RandomLines = Gen.Select(Line.Array[0, 12], Gen.Bool, (lines, finalNewline) =>
        string.Join('\n', lines) + (finalNewline ? "\n" : ""));

    // Half start from a request git could send, so accepted requests are common, not a fluke.
    private static readonly Gen<string> Lines = Gen.OneOf(
        RandomLines,
        Gen.Select(Gen.OneOfConst("protocol=https\nhost=example.com\n", "url=https://alice@h:8443/r.git\n", "host=h\nprotocol=http\n"), RandomLines,
            (request, extra) => request + extra));

    // Text as git would send it, raw bytes (decoded strictly, as Program.cs does) and very long lines.
    private static readonly Gen<Func<TextReader>> Input = Gen.Frequency(
        (6, Lines.Select(text => (Func<TextReader>)(() => new StringReader(text)))),
        (3, Gen.Byte.Array[0, 300].Select(bytes => (Func<TextReader>)(() => Strict(bytes)))),
        (2, Gen.Select(Gen.Byte[0, 255].Array[0, 40], Gen.Int[0, 3], (bytes, at) =>
            (Func<TextReader>)(() => Strict([.. Encoding.UTF8.GetBytes("protocol=https\nhost=h\n"[..(at * 5)]), .. bytes, (byte)'\n'])))),
        (1, Gen.Int[CredentialRequestReader.MaxInputChars - 64, CredentialRequestReader.MaxInputChars + 64].Select(length =>
            (Func<TextReader>)(() => new StringReader("protocol=https\nhost=h\npath=" + new string('a', length))))));

    [Fact]
    public void Read_ArbitraryInput_ThrowsOnlyHelperException()
    {
        Input.Sample(input =>
        {
            try
            {
                CredentialRequestReader.Read(input());
            }
            catch (HelperException)
            {
                // The documented failure: one xares: line, nothing on stdout.
            }
        }, iter: 3_000);
    }

    [Fact]
    public void Read_ArbitraryLines_AcceptedRequestsHaveProtocolAndHostWithoutControlCharacters()
    {
        Lines.Sample(text =>
        {
            if (TryRead(() => new StringReader(text)) is not { } request)
            {
                return true;
            }
            string[] fields = [request.Protocol, request.Host, request.Path, request.Username, request.Password];
            return request.Protocol.Length > 0 && request.Host.Length > 0 && fields.All(f => !f.Contains('\r') && !f.Contains('\0') && !f.Contains('\n'));
        }, iter: 3_000);
    }

    [Fact]
    public void Get_ArbitraryInput_PrintsSecretOnlyForAcceptedRequestAndNothingOnFailure()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse
        {
            GitGet = new GitGetResponse { Found = true, Username = "alice", Password = Secret, PasswordExpiryUtc = 1_700_000_000 },
        });

        var acceptedCount = 0;
        Input.Sample(input =>
        {
            var accepted = TryRead(input) is not null;
            acceptedCount += accepted ? 1 : 0;
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            using var stdin = input();

            var exitCode = HelperCommand.Run(["get"], stdin, stdout, stderr, sidecar.SocketPath, TimeSpan.FromSeconds(10));

            var printed = stdout.ToString();
            Assert.True(exitCode == 0 || printed.Length == 0, $"exit {exitCode} yet stdout was written");
            Assert.Equal(accepted, printed.Contains(Secret, StringComparison.Ordinal));
            Assert.True(accepted || printed.Length == 0, "a rejected request printed something");
            Assert.DoesNotContain(Secret, stderr.ToString(), StringComparison.Ordinal);
        }, iter: 300, threads: 1);
        Assert.InRange(acceptedCount, 5, 295); // both outcomes exercised (about one in ten is accepted)
    }

    private static CredentialRequest? TryRead(Func<TextReader> input)
    {
        try
        {
            return CredentialRequestReader.Read(input()).Request;
        }
        catch (HelperException)
        {
            return null;
        }
    }

    private static StreamReader Strict(byte[] bytes) => new(new MemoryStream(bytes), StrictUtf8, detectEncodingFromByteOrderMarks: false);
}
