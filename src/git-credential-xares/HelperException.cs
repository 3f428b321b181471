namespace Xares.GitHelper;

// A failure the user should read as one line, xares: <message>.
// Messages never carry credential values: they name keys and conditions, not contents.
internal sealed class HelperException(string message) : Exception(message);
