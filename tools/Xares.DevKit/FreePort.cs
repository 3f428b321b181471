using System.Net;
using System.Net.Sockets;

namespace Xares.DevKit;

internal static class FreePort
{
    /// <summary>A loopback port free right now (the OS may hand it out again later; good enough for tests).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
