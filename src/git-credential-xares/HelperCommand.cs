using Xares.CommandLine;
using Xares.Protos.Sidecar.V1;

namespace Xares.GitHelper;

// git-credential-xares get|store|erase: git's credential protocol on the given streams,
// answered by the sidecar (HelperUsage has already let only one operation word through). stdout receives protocol lines only, and only on success;
// every failure is one xares: … line on stderr and exit code 1.
internal static class HelperCommand
{
    public const int Failure = ExitCodes.Failure;

    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, string socketPath, TimeSpan timeout)
    {
        try
        {
            var sidecar = new SidecarClient(socketPath, timeout);
            return args[0] switch
            {
                "get" => Get(stdin, stdout, stderr, sidecar),
                "store" => Store(stdin, stderr, sidecar, timeout),
                "erase" => Erase(stdin, stderr, sidecar, timeout),
                // gitcredentials(7): a helper silently ignores operations it does not know.
                _ => 0,
            };
        }
        catch (HelperException e)
        {
            WriteError(stderr, e.Message);
            return Failure;
        }
        catch (Exception e)
        {
            WriteError(stderr, $"unexpected {e.GetType().Name}: {e.Message}");
            return Failure;
        }
    }

    private static int Get(TextReader stdin, TextWriter stdout, TextWriter stderr, SidecarClient sidecar)
    {
        if (ReadRequest(stdin, stderr) is not { } request)
        {
            return 0;
        }

        var response = sidecar.Exchange(new SidecarRequest
        {
            GitGet = new GitGetRequest
            {
                Protocol = request.Protocol,
                Host = request.Host,
                Path = request.Path,
                Username = request.Username,
            },
        });
        if (response.ResponseCase != SidecarResponse.ResponseOneofCase.GitGet)
        {
            throw new HelperException($"sidecar sent an unexpected answer ({response.ResponseCase})");
        }

        var answer = response.GitGet;
        if (!answer.Found)
        {
            // Nothing printed: git moves on to its next helper or prompts.
            return 0;
        }

        if (!CredentialValue.IsSafe(answer.Username) || !CredentialValue.IsSafe(answer.Password))
        {
            throw new HelperException("sidecar answer contains a CR, LF or NUL character; not passing it to git");
        }

        // One write of the complete answer, so git never sees half of one.
        stdout.Write(string.Concat(
            "username=", answer.Username, "\n",
            "password=", answer.Password, "\n",
            // 0 would read as "expired in 1970" to git 2.40+, which would discard the credential.
            answer.PasswordExpiryUtc > 0 ? $"password_expiry_utc={answer.PasswordExpiryUtc}\n" : ""));
        return 0;
    }

    // The helper never keeps anything (invariant 1); the input is still read and checked like any other.
    private static int Store(TextReader stdin, TextWriter stderr, SidecarClient sidecar, TimeSpan timeout)
    {
        if (ReadRequest(stdin, stderr) is { Password.Length: > 0 } request)
        {
            ReportForeignHelpers(request, "store", sidecar, timeout);
        }
        return 0;
    }

    private static int Erase(TextReader stdin, TextWriter stderr, SidecarClient sidecar, TimeSpan timeout)
    {
        // The sidecar finds the lease by the password git was refused with; without one there is nothing to report.
        if (ReadRequest(stdin, stderr) is not { Password.Length: > 0 } request)
        {
            return 0;
        }

        // Before the erase below takes the lease out of the sidecar's cache.
        ReportForeignHelpers(request, "erase", sidecar, timeout);

        var response = sidecar.Exchange(new SidecarRequest
        {
            GitErase = new GitEraseRequest
            {
                Protocol = request.Protocol,
                Host = request.Host,
                Path = request.Path,
                Username = request.Username,
                Password = request.Password,
            },
        });
        return response.ResponseCase == SidecarResponse.ResponseOneofCase.GitErase
            ? 0
            : throw new HelperException($"sidecar sent an unexpected answer ({response.ResponseCase})");
    }

    // Rule h could not hold for this call when another helper follows Xares (e.g. `git -c
    // credential.helper=store`): git gives it the same credential. Tell the sidecar, which has the
    // broker audit it when the password is one of its leases. Best effort: git's call goes on either way.
    private static void ReportForeignHelpers(CredentialRequest request, string operation, SidecarClient sidecar, TimeSpan timeout)
    {
        var helpers = ForeignHelperProbe.Find(request, timeout);
        if (helpers.Count == 0)
        {
            return;
        }
        var report = new GitForeignHelperRequest
        {
            Protocol = request.Protocol,
            Host = request.Host,
            Path = request.Path,
            Username = request.Username,
            Password = request.Password,
            Operation = operation,
        };
        report.Helpers.AddRange(helpers);
        try
        {
            sidecar.Exchange(new SidecarRequest { GitForeignHelper = report });
        }
        catch (HelperException)
        {
        }
    }

    private static CredentialRequest? ReadRequest(TextReader stdin, TextWriter stderr)
    {
        var input = CredentialRequestReader.Read(stdin);
        if (input.NoMatchReason is { } reason)
        {
            WriteError(stderr, $"{reason}; matching nothing");
        }

        return input.Request;
    }

    // Exactly one line whatever the message holds (the sidecar's error text included).
    private static void WriteError(TextWriter stderr, string message) =>
        stderr.Write(string.Concat("xares: ", message.ReplaceLineEndings(" ").Replace('\0', ' '), "\n"));
}
