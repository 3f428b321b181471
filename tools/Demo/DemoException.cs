namespace Xares.Demo;

/// <summary>A step did not show what it set out to show; the message says what happened instead.</summary>
internal sealed class DemoException(string message) : Exception(message);
