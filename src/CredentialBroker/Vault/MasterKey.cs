using System.Security.Cryptography;

namespace Xares.Broker.Vault;

/// <summary>
/// The 32-byte master key that wraps the keyring. From XARES_MASTER_KEY (base64) or
/// XARES_MASTER_KEY_FILE; in development, when neither is set, from &lt;data-dir&gt;/master.key,
/// created with mode 0600 on first use.
/// </summary>
internal sealed class MasterKey
{
    public const int Size = 32;

    private MasterKey(byte[] key, string source, bool generated)
    {
        Key = key;
        Source = source;
        WasGenerated = generated;
    }

    public byte[] Key { get; }

    /// <summary>Where the key came from, for the start-up log (never the key itself).</summary>
    public string Source { get; }

    public bool WasGenerated { get; }

    public bool IsDevelopmentKey => Source.StartsWith("development", StringComparison.Ordinal);

    public static MasterKey Load(string? base64, string? file, string dataDirectory)
    {
        if (!string.IsNullOrEmpty(base64))
        {
            return new MasterKey(Decode(base64, "XARES_MASTER_KEY"), "XARES_MASTER_KEY", generated: false);
        }
        if (!string.IsNullOrEmpty(file))
        {
            return new MasterKey(Decode(File.ReadAllText(file).Trim(), file), $"file {file}", generated: false);
        }

        var devFile = Path.Combine(dataDirectory, "master.key");
        if (File.Exists(devFile))
        {
            return new MasterKey(Decode(File.ReadAllText(devFile).Trim(), devFile), $"development key file {devFile}", generated: false);
        }
        Directory.CreateDirectory(dataDirectory);
        var key = RandomNumberGenerator.GetBytes(Size);
        using (var stream = new FileStream(devFile, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(Convert.ToBase64String(key));
        }
        return new MasterKey(key, $"development key file {devFile}", generated: true);
    }

    public static MasterKey FromBytes(byte[] key, string source) =>
        key.Length == Size ? new MasterKey(key, source, generated: false) : throw new ArgumentException("The master key must be 32 bytes.", nameof(key));

    private static byte[] Decode(string base64, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The master key from {source} is not valid base64.");
        }
        return key.Length == Size ? key : throw new InvalidOperationException($"The master key from {source} must be {Size} bytes, not {key.Length}.");
    }
}
