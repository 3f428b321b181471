using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xares.DevGitServer;

/// <summary>
/// Reads accounts as JSON lines, e.g. <c>{"username":"alice","token":"…","pathPrefix":"org1/"}</c>,
/// until end of input or a blank line. Tokens are secrets, so they come only this way, never
/// from arguments, environment or files, and errors never echo a line.
/// </summary>
internal static class AccountLines
{
    public static async Task<List<GitAccount>> ReadAsync(TextReader input, CancellationToken cancellationToken)
    {
        var accounts = new List<GitAccount>();
        var number = 0;
        while (await input.ReadLineAsync(cancellationToken) is { } line && line.Trim().Length > 0)
        {
            number++;
            AccountLine? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize(line, AccountLineContext.Default.AccountLine);
            }
            catch (JsonException)
            {
                throw new FormatException($"account line {number} is not valid JSON");
            }

            if (parsed is not { Username.Length: > 0, Token.Length: > 0 })
            {
                throw new FormatException($"account line {number} needs non-empty \"username\" and \"token\"");
            }

            accounts.Add(new GitAccount(parsed.Username, parsed.Token, parsed.PathPrefix));
        }

        return accounts;
    }
}

internal sealed record AccountLine(string? Username, string? Token, string? PathPrefix);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AccountLine))]
internal sealed partial class AccountLineContext : JsonSerializerContext;
