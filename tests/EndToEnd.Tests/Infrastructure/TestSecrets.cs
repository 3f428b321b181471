using System.Security.Cryptography;

namespace Xares.EndToEnd.Tests.Infrastructure;

internal static class TestSecrets
{
    /// <summary>A fresh, unmistakable token: a scanner hit can only be a leak of this very value.</summary>
    public static string NewToken() => "xtesttok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
}
