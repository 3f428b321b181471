using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Vault;

namespace Xares.Broker.Audit;

/// <summary>
/// The MACs that pin the chain's ends, each under the audit key of a keyring version and with its
/// own label, so one can never stand in for another: the head (newest record), the base (where
/// the chain starts after pruning) and external checkpoints.
/// </summary>
internal static class AuditMacs
{
    public static byte[] Head(Keyring keyring, int keyVersion, long sequence, byte[] mac) =>
        Compute(keyring, keyVersion, $"xares-audit-head-v1:{sequence}:", mac);

    public static byte[] Base(Keyring keyring, int keyVersion, long firstSequence, byte[] previousMac) =>
        Compute(keyring, keyVersion, $"xares-audit-base-v1:{firstSequence}:", previousMac);

    public static byte[] Checkpoint(Keyring keyring, int keyVersion, long sequence, DateTimeOffset at, byte[] mac) =>
        Compute(keyring, keyVersion, string.Create(CultureInfo.InvariantCulture, $"xares-audit-checkpoint-v1:{sequence}:{at.ToUnixTimeMilliseconds()}:{keyVersion}:"), mac);

    /// <summary>True when <paramref name="expected"/> is the MAC; false also when the key version is unknown.</summary>
    public static bool Matches(byte[] expected, Func<byte[]> compute)
    {
        try
        {
            return CryptographicOperations.FixedTimeEquals(expected, compute());
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }

    private static byte[] Compute(Keyring keyring, int keyVersion, string label, byte[] mac) =>
        HMACSHA256.HashData(keyring.AuditKey(keyVersion), Encoding.UTF8.GetBytes(label).Concat(mac).ToArray());
}
