namespace Xares.Broker.Hosting;

/// <summary>
/// Settings that cannot start the broker (a flag, XARES_* variable or settings-file value that is
/// out of range, malformed or unknown): a usage error, exit code 2, with every wrong setting named.
/// An <see cref="InvalidOperationException"/>, so a SIGHUP reload that meets one keeps the running settings.
/// </summary>
internal sealed class SettingsException(string message) : InvalidOperationException(message);
