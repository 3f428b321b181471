using System.Text;
using Xares.CommandLine;
using Xares.GitHelper;
using Xares.GitHelper.Posix;

// Plain read(2)/write(2) on the standard descriptors rather than System.Console, whose first write
// starts a signal-handling thread; exact UTF-8 without BOM, "\n" only, nothing else at startup.
var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
using var stdin = new StreamReader(new FileDescriptorStream(0), utf8, detectEncodingFromByteOrderMarks: false);
using var stdout = new StreamWriter(new FileDescriptorStream(1), utf8);
using var stderr = new StreamWriter(new FileDescriptorStream(2), utf8);

if (HelperUsage.TryAnswer(args, stdout, stderr) is { } answered)
{
    return answered;
}

if (!HelperEnvironment.TryParseTimeout(Environment.GetEnvironmentVariable(HelperEnvironment.TimeoutVariable), out var timeout))
{
    stderr.Write($"xares: {HelperEnvironment.TimeoutVariable} must be a whole number of milliseconds from 1 to {HelperEnvironment.MaxTimeoutMilliseconds}\n");
    return ExitCodes.Failure;
}

var socketPath = HelperEnvironment.SocketPath(Environment.GetEnvironmentVariable(HelperEnvironment.SocketVariable));
return HelperCommand.Run(args, stdin, stdout, stderr, socketPath, timeout);
